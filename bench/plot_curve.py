"""The coding-length curve L(k) of a synthetic CLIP-like set, as an SVG: the k CPP chooses (lowest L) marked,
and the k "Fewer albums" / "More albums" would pick (the next-best k below / above on the curve).

    .venv/bin/python bench/plot_curve.py [--n 2000] [--out bench/coding_length_curve.svg]

Prints the curve as a table too. The SVG is written by hand (no plotting library is installed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 80, 24, 40, 64
CHOSEN, FEWER, MORE = "#2a7fd4", "#d6781e", "#28965a"


def neighbours(curve: dict[int, float], k: int) -> tuple[int | None, int | None]:
    """The k Fewer / More would pick: the lowest L on each side, the nearest k on a tie (as `choose_k`)."""
    picks = []
    for side in ([key for key in curve if key < k], [key for key in curve if key > k]):
        picks.append(min(side, key=lambda key: (curve[key], abs(key - k))) if side else None)
    return picks[0], picks[1]


def svg_curve(curve: dict[int, float], k: int, title: str) -> str:
    """The curve as an SVG document."""
    ks = sorted(curve)
    low_k, high_k = ks[0], ks[-1]
    low, high = min(curve.values()), max(curve.values())
    span = high - low or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(key: int) -> float:
        return LEFT + (key - low_k) / max(high_k - low_k, 1) * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - (value - low) / span * plot_h

    fewer, more = neighbours(curve, k)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 30}" text-anchor="middle">k (number of albums)</text>',
        f'<text x="18" y="{TOP + plot_h / 2}" text-anchor="middle" transform="rotate(-90 18 {TOP + plot_h / 2})">'
        "coding length L(k), nats (lower is better)</text>",
    ]
    for key in ks:
        out.append(f'<text x="{x(key):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" fill="#555">{key}</text>')
    for value in (low, (low + high) / 2, high):
        out.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#555">{value:,.0f}</text>')
    points = " ".join(f"{x(key):.1f},{y(curve[key]):.1f}" for key in ks)
    out.append(f'<polyline points="{points}" fill="none" stroke="#222" stroke-width="1.5"/>')
    out += [f'<circle cx="{x(key):.1f}" cy="{y(curve[key]):.1f}" r="2.5" fill="#222"/>' for key in ks]
    legend = [(f"● k = {k} chosen (lowest L)", CHOSEN)]
    for key, colour, word in ((fewer, FEWER, "fewer"), (more, MORE, "more")):
        if key is not None:
            out.append(
                f'<circle cx="{x(key):.1f}" cy="{y(curve[key]):.1f}" r="6" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
            legend.append((f"○ {word} albums: k = {key}", colour))
    out.append(f'<circle cx="{x(k):.1f}" cy="{y(curve[k]):.1f}" r="6" fill="{CHOSEN}"/>')
    for n, (text, colour) in enumerate(legend):
        out.append(f'<text x="{LEFT + n * 190}" y="{HEIGHT - 10}" fill="{colour}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="points in the synthetic set")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "coding_length_curve.svg")
    args = parser.parse_args()

    from datasets import synthetic_clip_like

    from engine.cluster import CPPClusterer

    x, _ = synthetic_clip_like(n=args.n, n_clusters=12, seed=0)
    started = time.perf_counter()
    estimator = CPPClusterer(n_clusters=None, random_state=0, device="cpu").fit(x)
    curve = {int(key): float(v) for key, v in estimator.coding_lengths_.items()}
    k = int(estimator.n_clusters_)
    fewer, more = neighbours(curve, k)
    title = f"Coding length against k: synthetic CLIP-like set, n = {args.n}, 12 true clusters"
    args.out.write_text(svg_curve(curve, k, title), "utf-8")
    print(f"fitted in {time.perf_counter() - started:.1f} s; wrote {args.out}")
    print("| k | L(k) | |\n|---:|---:|---|")
    for key in sorted(curve):
        mark = "chosen" if key == k else "fewer" if key == fewer else "more" if key == more else ""
        print(f"| {key} | {curve[key]:,.0f} | {mark} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
