"""Places end to end with the toy CLIP (../shared): photos of the toy world carry GPS positions, and the
library names places, titles albums with the place most of their photos share, and finds photos by place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from engine.cli.main import main
from engine.library import Library
from engine.paths import display
from tests.engine.places.gps_photos import NICE, ZERMATT, ZURICH
from tests.toy import TOYCLIP, make_toy_library, needs_toyclip

pytestmark = [
    needs_toyclip,
    pytest.mark.slow,
]


def _add_gps(path: Path, position: tuple[float, float]) -> None:
    """Write the position into a generated photo's EXIF (a test file: re-encoding it is fine)."""
    from tests.engine.places.gps_photos import _dms

    with Image.open(path) as image:
        image.load()
        exif = image.getexif()
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = ("N" if position[0] >= 0 else "S"), _dms(position[0])
        gps[3], gps[4] = ("E" if position[1] >= 0 else "W"), _dms(position[1])
        image.save(path, "JPEG", quality=90, exif=exif)


@pytest.fixture(scope="module")
def placed_library(tmp_path_factory: pytest.TempPathFactory):
    """Yellow stars all taken in Nice, blue triangles half in Nice and half in Zürich, red circles in two Swiss
    towns, the other three concepts without GPS; named from the toy world's own words."""
    root = tmp_path_factory.mktemp("places")
    photos = root / "photos"
    truth = make_toy_library(photos, per_concept=12, seed=3)
    seen: dict[str, int] = {}
    where: dict[str, str] = {}
    for path, concept in sorted(truth.items()):
        n = seen[concept] = seen.get(concept, 0) + 1
        if concept == "yellow star":
            place, city = NICE, "Nice"
        elif concept == "blue triangle":
            place, city = (NICE, "Nice") if n % 2 else (ZURICH, "Zürich")
        elif concept == "red circle":
            place, city = (ZURICH, "Zürich") if n % 2 else (ZERMATT, "Zermatt")
        else:
            continue
        _add_gps(Path(path), place)
        where[path] = city
    library = Library(root / "lib")
    library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    library.index([photos])
    words = root / "shapes.txt"
    words.write_text("\n".join(sorted(set(truth.values()))), "utf-8")
    library.set_vocabulary(library.vocabulary_choice().use_file(words))
    library.recluster()
    yield library, truth, where
    library.close()


def test_album_titles_carry_the_place_only_where_most_photos_share_it(placed_library) -> None:
    library, truth, _ = placed_library
    paths = {r.id: display(r.path) for r in library.photos()}
    titles = {}
    for album in library.albums.albums():
        if album.id is None:
            continue
        concepts = [truth[paths[i]] for i in album.members]
        titles[max(set(concepts), key=concepts.count)] = album.title
    assert " · Nice · " in titles["yellow star"], titles
    assert " · Switzerland · " in titles["red circle"], titles
    assert "Nice" not in titles["blue triangle"] and "Zürich" not in titles["blue triangle"], titles
    assert titles["green square"].count(" · ") == 1, titles  # name and dates: no GPS, no place


def test_search_by_place_and_by_content_in_a_place(placed_library) -> None:
    library, truth, where = placed_library
    in_nice = {display(r.path) for r in library.search("Nice", limit=100)}
    assert in_nice == {p for p, city in where.items() if city == "Nice"}
    results = library.search("blue triangle in Nice", limit=50)
    first = [display(r.path) for r in results[:5]]
    assert all(truth[p] == "blue triangle" and where[p] == "Nice" for p in first), first
    in_nice_first = [where.get(display(r.path)) == "Nice" for r in results]
    assert in_nice_first == sorted(in_nice_first, reverse=True), "every match in Nice before any elsewhere"
    assert sum(truth[display(r.path)] == "blue triangle" for r in results) == 12, "matches elsewhere still follow"


def test_cli_places_and_photos_json(placed_library, capsys) -> None:
    library, _, where = placed_library
    assert main(["--library", str(library.directory), "places", "--json"]) == 0
    countries = {c["country"]: c for c in json.loads(capsys.readouterr().out)}
    assert countries["France"]["count"] == sum(city == "Nice" for city in where.values())
    assert {c["city"] for c in countries["Switzerland"]["cities"]} == {"Zürich", "Zermatt"}
    assert main(["--library", str(library.directory), "photos", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all((row["place"] or {}).get("city") == where.get(row["path"]) for row in rows)
