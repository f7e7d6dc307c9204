"""Issue 15's four steps through the command line, with the toy CLIP from ../shared: the user's album keeps
its photos through "fewer albums", `undo` reverts the re-cluster (not the user's move) and says so, and
"more albums" (right after "fewer", or after the undo) works and never retires the user's album."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_albums_cli import check_listing
from tests.toy import TOYCLIP, make_toy_library, needs_toyclip
from tests.toy import Cli as ToyCli

# Eight concepts the toy CLIP knows; yellow stars share their shape with red stars, red circles their colour.
CONCEPTS = "red:circle,green:square,blue:triangle,yellow:star,orange:hexagon,black:cross,red:star,blue:circle"
PER_CONCEPT = 25
COLOURS = ("red", "green", "blue", "yellow", "orange", "black")
SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross")
USERS_NAME = "Sunny Stars 2021"

pytestmark = [
    needs_toyclip,
    pytest.mark.slow,
]


class Cli(ToyCli):
    """The shared runner, with the album listing checked against the photo listing."""

    def albums(self) -> list[dict]:
        albums = json.loads(self("albums", "--json"))
        check_listing(albums, json.loads(self("photos", "--json")))
        return albums

    def album(self, album_id: int) -> dict | None:
        return next((a for a in self.albums() if a["id"] == album_id), None)


def listing_without_confidence(albums: list[dict]) -> list[dict]:
    return [{k: v for k, v in a.items() if k != "confidence"} for a in albums]


@pytest.fixture
def clustered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Cli, dict[int, str]]:
    """A toy library of 8 concepts × 25 photos, indexed and clustered into one album per concept; returns the
    command line and each photo's concept by id."""
    photos = tmp_path / "photos"
    truth = make_toy_library(photos, PER_CONCEPT, seed=7, concepts=CONCEPTS)
    cli = Cli(capsys, tmp_path / "lib")
    model = ["--model", "toyclip", "--pretrained", str(TOYCLIP / "toyclip.safetensors")]
    cli("index", str(photos), *model, "--model-config", str(TOYCLIP / "toyclip.json"), "--no-progress")
    words = tmp_path / "shapes.txt"  # the toy CLIP knows only colours and shapes: the user's own word list
    words.write_text("\n".join(f"{c} {s}" for c in COLOURS for s in SHAPES), "utf-8")
    cli("vocab", "use", str(words))
    assert "200 photos → 8 clusters" in cli("cluster", "--no-progress")
    concept_of = {p["id"]: truth[str(Path(p["path"]).resolve())] for p in json.loads(cli("photos", "--json"))}
    return cli, concept_of


def test_the_users_album_keeps_its_photos_through_fewer_undo_and_more(clustered) -> None:
    cli, concept_of = clustered

    # 1. Eight albums, one per concept. The user renames "Yellow star" and moves 2 red stars into it.
    albums = [a for a in cli.albums() if a["id"] is not None]
    assert len(albums) == 8 and all(a["size"] == PER_CONCEPT for a in albums)
    (star,) = [a for a in albums if {concept_of[p] for p in a["members"]} == {"yellow star"}]
    assert star["name"] == "Yellow star"
    assert USERS_NAME in cli("rename", str(star["id"]), USERS_NAME)
    red_stars = [p for p in sorted(concept_of) if concept_of[p] == "red star"][:2]
    assert f"“{USERS_NAME}”" in cli("move", *map(str, red_stars), str(star["id"]))
    mine = cli.album(star["id"])
    assert mine is not None and mine["size"] == PER_CONCEPT + 2 and mine["user_named"]
    held = set(mine["members"])
    after_move = cli.albums()

    # 2. Fewer albums: the user's album keeps its 27 photos and its name.
    out = cli("recluster", "--fewer", "--no-progress")
    assert "→ 7 clusters" in out, out
    mine = cli.album(star["id"])
    assert mine is not None, f"the user's album was retired:\n{out}"
    assert mine["name"] == USERS_NAME and held <= set(mine["members"]), f"it lost photos:\n{out}"
    assert mine["size"] == PER_CONCEPT + 2, "nothing else fits a yellow-star album"
    after_fewer = cli.albums()

    # 3. Undo reverts the re-cluster, not the move, and says so.
    out = cli("undo")
    assert "re-cluster" in out.lower() and "move" not in out.lower(), out
    assert listing_without_confidence(cli.albums()) == listing_without_confidence(after_move)
    assert set(cli.album(star["id"])["members"]) == held
    out = cli("redo")
    assert "re-cluster" in out.lower(), out
    assert listing_without_confidence(cli.albums()) == listing_without_confidence(after_fewer)

    # 4. More albums right after fewer: it works (there is a larger number to try), and the user's album is
    # neither retired nor emptied.
    out = cli("recluster", "--more", "--no-progress")
    assert "→ 8 clusters" in out or "→ 9 clusters" in out, out
    mine = cli.album(star["id"])
    assert mine is not None, f"the user's album was retired:\n{out}"
    assert mine["name"] == USERS_NAME and held <= set(mine["members"]), f"it lost photos:\n{out}"
    assert USERS_NAME not in next((line for line in out.splitlines() if "removed" in line), "")

    # ...and after an undo too (the window's More after Ctrl+Z); the CLI and the window mean the same.
    cli("undo")
    out = cli("recluster", "--more", "--no-progress")
    assert "no larger number" not in out
    mine = cli.album(star["id"])
    assert mine is not None and held <= set(mine["members"]) and mine["name"] == USERS_NAME

    # The history lists the actions, newest first; undo and redo walk it.
    history = json.loads(cli("history", "--json"))
    kinds = [e["kind"] for e in history if not e["undone"]]
    assert kinds[:4] == ["recluster", "recluster", "move", "rename"], history
    assert history[0]["next"] == "undo"
