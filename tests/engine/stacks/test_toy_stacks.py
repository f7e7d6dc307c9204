"""Stacking measured end to end, as a user runs it: a toy-world library with known bursts and copies, indexed
by the toy CLIP through the command line; precision and recall of stacking against the truth."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.engine.stacks.toy_scenes import make_library
from tests.toy import TOYCLIP, Cli, needs_toyclip

pytestmark = [
    pytest.mark.slow,
    needs_toyclip,
]


def pair_scores(groups: list[list[str]], stack_of: dict[str, int | None], files: list[str]) -> tuple[float, float]:
    """Precision and recall of 'these two files are in one stack' over every pair of files."""
    truth = {f: n for n, group in enumerate(groups) for f in group}
    tp = fp = fn = 0
    for a, b in itertools.combinations(files, 2):
        same = a in truth and truth.get(a) == truth.get(b)
        stacked = stack_of[a] is not None and stack_of[a] == stack_of[b]
        tp += same and stacked
        fp += stacked and not same
        fn += same and not stacked
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def test_bursts_and_copies_fold_into_stacks_and_distinct_photos_stay_apart(tmp_path: Path, capsys) -> None:
    truth = make_library(tmp_path / "photos", scenes=24, singles_per_concept=5, seed=5)
    cli = Cli(capsys, tmp_path / "lib")
    cli("init")
    model = ["--model", "toyclip", "--model-config", str(TOYCLIP / "toyclip.json")]
    cli("model", "use", str(TOYCLIP / "toyclip.safetensors"), *model)
    out = cli("index", str(tmp_path / "photos"))
    assert "stacks (" in out

    photos = json.loads(cli("photos", "--json"))
    stack_of = {p["path"]: p["stack"] for p in photos}
    files = [str(f.resolve()) for f in truth.files]
    assert set(stack_of) == set(files)
    groups = [[str(f.resolve()) for f in g] for g in truth.groups]
    precision, recall = pair_scores(groups, stack_of, files)
    assert precision >= 0.95 and recall >= 0.95, f"precision {precision:.3f}, recall {recall:.3f}"

    # Every re-encoded copy (half size, JPEG quality 60) is listed as a duplicate of its original. A copy of a
    # burst frame may be listed with another frame of its burst: frames a few pixels apart (or at the same
    # place: the toy camera has 25) are one picture at thumbnail size.
    sets = json.loads(cli("duplicates", "--json"))
    near = [{f["path"] for f in s["files"]} for s in sets if s["kind"] == "near"]
    burst_of = {str(f.resolve()): {str(g.resolve()) for g in b} for b in truth.bursts for f in b}
    for original, copy in truth.copies:
        originals = burst_of.get(str(original.resolve()), {str(original.resolve())})
        listed = [s for s in near if str(copy.resolve()) in s]
        assert len(listed) == 1 and listed[0] - {str(copy.resolve())} <= originals, f"{copy.name}: {listed}"
        assert listed[0] & originals
    assert all(s["files"][0]["width"] >= s["files"][-1]["width"] for s in sets), "largest file first"
    text = cli("duplicates")
    assert "never deletes" in text

    # The user's choices: unstack a burst, then undo; pick another cover; a re-index keeps both.
    stacks = json.loads(cli("stacks", "--json"))
    burst = next(s for s in stacks if s["kind"] == "burst")
    cli("unstack", str(burst["id"]))
    cli("index")
    assert burst["id"] not in {s["id"] for s in json.loads(cli("stacks", "--json"))}
    assert "Unstack" in cli("undo")
    assert burst["id"] in {s["id"] for s in json.loads(cli("stacks", "--json"))}
    other = burst["photos"][1]
    cli("stack-cover", str(other))
    cli("index")
    again = {s["id"]: s for s in json.loads(cli("stacks", "--json"))}
    assert again[burst["id"]]["cover"] == other
    assert "stack-cover" in cli("history")
    assert all((tmp_path / "photos").rglob("*.jpg")), "originals untouched"
    assert sorted(str(f.resolve()) for f in (tmp_path / "photos").rglob("*.jpg")) == sorted(files)
