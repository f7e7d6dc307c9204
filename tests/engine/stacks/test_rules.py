"""The stacking rules on synthetic embeddings and signatures: bursts, copies, distinct photos, user choices."""

from __future__ import annotations

import numpy as np
import pytest

from engine.stacks.rules import BURST, DUPLICATE, Photo, StackRules, find_stacks
from engine.stacks.signature import SIGNATURE_DIM, laplacian_variance


def unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    v = rng.normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def near(v: np.ndarray, rng: np.random.Generator, cosine: float) -> np.ndarray:
    """A unit vector at about `cosine` from `v`."""
    noise = rng.normal(size=v.shape).astype(np.float32)
    noise -= (noise @ v) * v
    noise /= np.linalg.norm(noise)
    out = cosine * v + np.sqrt(1 - cosine**2) * noise
    return out / np.linalg.norm(out)


class World:
    """Photos built one by one with CLIP vectors and signatures at chosen similarities."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.photos: list[Photo] = []
        self.clip: list[np.ndarray] = []
        self.sig: list[np.ndarray] = []

    def add(
        self, clip: np.ndarray, sig: np.ndarray, taken: float | None, pixels: int = 480 * 480, sharp: float = 100.0
    ) -> str:
        name = f"h{len(self.photos):03d}"
        self.photos.append(Photo(name, taken, pixels, 1.0, sharp))
        self.clip.append(clip)
        self.sig.append(sig)
        return name

    def stacks(self, **options: object) -> list:
        return find_stacks(self.photos, np.stack(self.clip), np.stack(self.sig), **options)

    def vec(self) -> tuple[np.ndarray, np.ndarray]:
        return unit(self.rng, 64), unit(self.rng, SIGNATURE_DIM)


def test_burst_frames_seconds_apart_form_one_burst_with_the_sharpest_on_top() -> None:
    w = World()
    clip, sig = w.vec()
    frames = [
        w.add(near(clip, w.rng, 0.98), near(sig, w.rng, 0.998), 1000.0 + i, sharp=50.0 if i == 2 else 100.0 + i)
        for i in range(4)
    ]
    (stack,) = w.stacks()
    assert set(stack.members) == set(frames)
    assert stack.kind == BURST
    assert stack.cover == frames[3]  # the sharpest of four frames of one size
    assert len(set(stack.copies.values())) == 4  # frames are not copies of one another


def test_a_resized_copy_is_a_duplicate_at_any_time_and_the_larger_file_is_the_cover() -> None:
    w = World()
    clip, sig = w.vec()
    original = w.add(clip, sig, 1000.0, pixels=480 * 480, sharp=80.0)
    small = w.add(near(clip, w.rng, 0.99), near(sig, w.rng, 0.999), 1000.0 + 86400 * 30, pixels=240 * 240, sharp=200.0)
    (stack,) = w.stacks()
    assert stack.kind == DUPLICATE
    assert set(stack.members) == {original, small}
    assert stack.cover == original
    assert stack.copies[original] == stack.copies[small]


def test_a_copy_joins_the_frame_it_was_made_from_not_the_whole_burst() -> None:
    w = World()
    clip, sig = w.vec()
    frames = [w.add(near(clip, w.rng, 0.99), near(sig, w.rng, 0.998), 1000.0 + i) for i in range(3)]
    copy = w.add(w.clip[0], near(w.sig[0], w.rng, 0.9999), None, pixels=240 * 240)
    (stack,) = w.stacks()
    assert stack.kind == BURST
    assert stack.copies[copy] == stack.copies[frames[0]]
    assert len({stack.copies[f] for f in frames}) == 3


def test_distinct_photos_of_one_subject_taken_seconds_apart_are_not_stacked() -> None:
    """Close in CLIP (one concept) but another layout: the signature keeps them apart."""
    w = World()
    clip, _ = w.vec()
    for i in range(5):
        w.add(near(clip, w.rng, 0.99), unit(w.rng, SIGNATURE_DIM), 1000.0 + 2 * i)
    assert w.stacks() == []


def test_the_same_layout_with_another_subject_is_not_stacked() -> None:
    """A signature can match by chance (two plain backgrounds); CLIP must agree as well."""
    w = World()
    _, sig = w.vec()
    w.add(unit(w.rng, 64), sig, 1000.0)
    w.add(unit(w.rng, 64), sig, 1001.0)
    assert w.stacks() == []


def test_frames_further_apart_than_a_burst_are_not_a_burst() -> None:
    w = World()
    clip, sig = w.vec()
    w.add(clip, sig, 1000.0)
    w.add(near(clip, w.rng, 0.9), near(sig, w.rng, 0.97), 1000.0 + 60)
    assert w.stacks() == []
    # Within a few seconds the same pair is one moment.
    w.photos[1] = Photo(w.photos[1].hash, 1003.0, w.photos[1].pixels, 1.0, 1.0)
    assert len(w.stacks()) == 1


def test_photos_without_a_capture_time_are_never_a_burst() -> None:
    w = World()
    clip, sig = w.vec()
    w.add(clip, sig, None)
    w.add(near(clip, w.rng, 0.95), near(sig, w.rng, 0.97), None)  # a burst's closeness, not a copy's
    assert w.stacks() == []
    w.photos = [Photo(p.hash, 1000.0 + i, p.pixels, 1.0, 1.0) for i, p in enumerate(w.photos)]
    assert [s.kind for s in w.stacks()] == [BURST]


def test_another_aspect_ratio_is_not_a_copy() -> None:
    w = World()
    clip, sig = w.vec()
    w.add(clip, sig, None, pixels=400 * 300)
    w.add(clip, sig, None, pixels=300 * 300)
    w.photos[0] = Photo(w.photos[0].hash, None, 400 * 300, 4 / 3, 1.0)
    assert w.stacks() == []
    w.photos[0] = Photo(w.photos[0].hash, None, 400 * 400, 1.0, 1.0)
    assert [s.kind for s in w.stacks()] == [DUPLICATE]


def test_photos_the_user_took_apart_join_no_stack() -> None:
    w = World()
    clip, sig = w.vec()
    frames = [w.add(near(clip, w.rng, 0.99), near(sig, w.rng, 0.999), 1000.0 + i) for i in range(3)]
    assert len(w.stacks()) == 1
    assert w.stacks(apart=frames) == []
    (stack,) = w.stacks(apart=[frames[0]])
    assert set(stack.members) == set(frames[1:])


def test_the_users_cover_wins_over_the_sharpest_frame_and_the_latest_choice_counts() -> None:
    w = World()
    clip, sig = w.vec()
    frames = [
        w.add(near(clip, w.rng, 0.99), near(sig, w.rng, 0.999), 1000.0 + i, sharp=10.0 * (i + 1)) for i in range(3)
    ]
    assert w.stacks()[0].cover == frames[2]
    assert w.stacks(covers={frames[0]: 5.0})[0].cover == frames[0]
    assert w.stacks(covers={frames[0]: 5.0, frames[1]: 9.0})[0].cover == frames[1]


def test_stricter_rules_stack_less() -> None:
    w = World()
    clip, sig = w.vec()
    w.add(clip, sig, 1000.0)
    for i in range(2):
        w.add(near(clip, w.rng, 0.9), near(sig, w.rng, 0.97), 1001.0 + i)
    assert len(w.stacks()) == 1
    assert w.stacks(rules=StackRules(burst_clip=0.95)) == []


def test_an_empty_library_has_no_stacks() -> None:
    assert find_stacks([], np.zeros((0, 4), np.float32), np.zeros((0, SIGNATURE_DIM), np.float32)) == []


@pytest.mark.parametrize("blur", [1.0, 3.0])
def test_blur_lowers_the_focus_measure(blur: float) -> None:
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(0)
    image = Image.fromarray((rng.random((64, 64)) * 255).astype(np.uint8), "L")
    sharp = laplacian_variance(np.asarray(image, dtype=np.float32))
    soft = laplacian_variance(np.asarray(image.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float32))
    assert soft < sharp / 2
