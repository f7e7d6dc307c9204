"""Draw the PhotoAtlas icon: an SVG master and the PNG, ICO and ICNS files rendered from the same shapes.

The icon is a stack of three photo prints on a deep-blue tile; the front print shows a small world
(sun, hills, a meridian arc), the "atlas" of the name. Every shape is described once below, in a
1024 x 1024 coordinate system, and drawn twice: as SVG elements and with Pillow (supersampled, then
reduced with a Lanczos filter so the small sizes stay crisp).

Run from anywhere: `python resources/icons/make_icons.py`; the files are written next to this script.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
CANVAS = 1024
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SUPERSAMPLE = 2  # Pillow draws without anti-aliasing: draw at twice 1024 and reduce

TILE_TOP, TILE_BOTTOM = (0x2B, 0x5C, 0x8A), (0x16, 0x2F, 0x4D)
SKY, HILL_BACK, HILL_FRONT, SUN = (0x9F, 0xD3, 0xF0), (0x4E, 0x9A, 0x6B), (0x2F, 0x7A, 0x4F), (0xF6, 0xC3, 0x44)
PAPER, PAPER_SHADE, BACK_CARD, MIDDLE_CARD = (
    (0xFF, 0xFF, 0xFF),
    (0xD8, 0xDE, 0xE6),
    (0xF2, 0xA6, 0x5A),
    (0xE9, 0x6A, 0x6A),
)
MERIDIAN = (0xFF, 0xFF, 0xFF)


@dataclass(frozen=True)
class Card:
    """A photo print: centre, size, rotation in degrees (clockwise), border and face colours."""

    cx: float
    cy: float
    w: float
    h: float
    angle: float
    border: tuple[int, int, int]
    face: tuple[int, int, int]

    def corners(self, inset: float = 0.0) -> list[tuple[float, float]]:
        a = math.radians(self.angle)
        hw, hh = self.w / 2 - inset, self.h / 2 - inset
        out = []
        for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)):
            out.append((self.cx + dx * math.cos(a) - dy * math.sin(a), self.cy + dx * math.sin(a) + dy * math.cos(a)))
        return out


CARDS = (
    Card(470, 500, 560, 440, -14, PAPER_SHADE, BACK_CARD),
    Card(540, 500, 560, 440, 9, PAPER_SHADE, MIDDLE_CARD),
)
FRONT = Card(512, 560, 600, 470, -3, PAPER, SKY)
BORDER = 34  # white margin of a print


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def _front_point(x: float, y: float) -> tuple[float, float]:
    """A point given in the front print's own unrotated frame (origin at its centre) on the canvas."""
    a = math.radians(FRONT.angle)
    return FRONT.cx + x * math.cos(a) - y * math.sin(a), FRONT.cy + x * math.sin(a) + y * math.cos(a)


def _front_scene() -> list[tuple[str, list[tuple[float, float]], tuple[int, int, int]]]:
    """The picture on the front print as filled polygons and a polyline: (kind, points, colour)."""
    hw, hh = FRONT.w / 2 - BORDER, FRONT.h / 2 - BORDER
    shapes: list[tuple[str, list[tuple[float, float]], tuple[int, int, int]]] = []
    sun = [
        _front_point(120 + 62 * math.cos(t / 24 * math.tau), -70 + 62 * math.sin(t / 24 * math.tau)) for t in range(24)
    ]
    shapes.append(("polygon", sun, SUN))
    back = [(-hw, 60.0), (-120.0, -40.0), (40.0, 40.0), (hw, -10.0), (hw, hh), (-hw, hh)]
    shapes.append(("polygon", [_front_point(x, y) for x, y in back], HILL_BACK))
    front = [(-hw, 120.0), (-40.0, 50.0), (130.0, 110.0), (hw, 70.0), (hw, hh), (-hw, hh)]
    shapes.append(("polygon", [_front_point(x, y) for x, y in front], HILL_FRONT))
    # A meridian arc across the sky: the "atlas" in the picture.
    arc = [
        (-hw + 10 + (2 * hw - 20) * s / 32, -hh + 60 + 0.9 * hh * (1 - (2 * s / 32 - 1) ** 2) * -0.55 + 40)
        for s in range(33)
    ]
    shapes.append(("line", [_front_point(x, y) for x, y in arc], MERIDIAN))
    return shapes


def svg() -> str:
    """The icon as an SVG document (the master that desktop environments scale)."""

    def pts(points: list[tuple[float, float]]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CANVAS}" height="{CANVAS}" viewBox="0 0 {CANVAS} {CANVAS}">',
        "<title>PhotoAtlas</title>",
        '<defs><linearGradient id="tile" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{_hex(TILE_TOP)}"/><stop offset="1" stop-color="{_hex(TILE_BOTTOM)}"/>'
        "</linearGradient></defs>",
        f'<rect x="32" y="32" width="{CANVAS - 64}" height="{CANVAS - 64}" rx="200" fill="url(#tile)"/>',
    ]
    for card in (*CARDS, FRONT):
        parts.append(f'<polygon points="{pts(card.corners())}" fill="{_hex(card.border)}"/>')
        parts.append(f'<polygon points="{pts(card.corners(BORDER))}" fill="{_hex(card.face)}"/>')
    for kind, points, color in _front_scene():
        if kind == "polygon":
            parts.append(f'<polygon points="{pts(points)}" fill="{_hex(color)}"/>')
        else:
            parts.append(
                f'<polyline points="{pts(points)}" fill="none" stroke="{_hex(color)}" stroke-width="14" '
                'stroke-linecap="round" stroke-dasharray="4 28" opacity="0.9"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render(size: int) -> Image.Image:
    """The icon drawn with Pillow at `size` x `size` pixels."""
    big = CANVAS * SUPERSAMPLE
    s = SUPERSAMPLE

    def scaled(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * s, y * s) for x, y in points]

    gradient = Image.new("RGB", (1, big))
    for y in range(big):
        t = y / (big - 1)
        gradient.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(TILE_TOP, TILE_BOTTOM, strict=True)))
    tile = gradient.resize((big, big))
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle((32 * s, 32 * s, (CANVAS - 32) * s, (CANVAS - 32) * s), 200 * s, fill=255)
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    image.paste(tile, (0, 0), mask)

    draw = ImageDraw.Draw(image)
    for card in (*CARDS, FRONT):
        draw.polygon(scaled(card.corners()), fill=card.border)
        draw.polygon(scaled(card.corners(BORDER)), fill=card.face)
    # The scene may not spill over the print's white border: draw it on a layer masked by the face.
    scene = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    scene_draw = ImageDraw.Draw(scene)
    for kind, points, color in _front_scene():
        if kind == "polygon":
            scene_draw.polygon(scaled(points), fill=color)
        else:
            for i, (x, y) in enumerate(scaled(points)):
                if i % 2 == 0:  # dotted, like the SVG's dash array
                    r = 7 * s
                    scene_draw.ellipse((x - r, y - r, x + r, y + r), fill=(*color, 230))
    face = Image.new("L", (big, big), 0)
    ImageDraw.Draw(face).polygon(scaled(FRONT.corners(BORDER)), fill=255)
    image.paste(scene, (0, 0), Image.composite(scene.getchannel("A"), Image.new("L", (big, big), 0), face))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    (HERE / "photoatlas.svg").write_text(svg(), "utf-8")
    master = render(512)
    for size in SIZES:
        (master if size == 512 else render(size)).save(HERE / f"photoatlas-{size}.png", optimize=True)
    render(256).save(HERE / "photoatlas.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
    render(1024).save(HERE / "photoatlas.icns")  # Pillow writes every ICNS size from the 1024 px image


if __name__ == "__main__":
    main()
