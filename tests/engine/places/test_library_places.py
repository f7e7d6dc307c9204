"""Places through the library and the command line: indexing reads GPS and names places, albums gain the
place most of their photos share, an upgraded catalog gets its places without re-reading pixels."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from engine.catalog import CATALOG_FILE
from engine.cli.main import main
from engine.library import Library
from engine.places import geocoder as geocoder_module
from tests.engine.places.gps_photos import MID_ATLANTIC, NICE, OFF_CORSICA, PARIS, ZERMATT, ZURICH, gps_photo

JULY = dt.datetime(2023, 7, 14, 10, 0)


def _photos(folder: Path) -> dict[str, Path]:
    made = {}
    for i in range(3):
        made[f"nice{i}"] = gps_photo(folder / f"nice{i}.jpg", NICE, taken=JULY + dt.timedelta(days=i), offset="+02:00")
    for i in range(2):
        made[f"paris{i}"] = gps_photo(folder / f"paris{i}.jpg", PARIS, taken=JULY - dt.timedelta(days=30 + i))
    made["atlantic"] = gps_photo(folder / "atlantic.jpg", MID_ATLANTIC, taken=JULY)
    made["corsica"] = gps_photo(folder / "corsica.jpg", OFF_CORSICA, taken=JULY)
    made["plain"] = gps_photo(folder / "plain.jpg", None, taken=JULY)
    return made


@pytest.fixture
def indexed(tmp_path: Path):
    photos = _photos(tmp_path / "photos")
    library = Library(tmp_path / "lib")
    library.index([tmp_path / "photos"], embed=False)
    yield library, photos
    library.close()


def _by_name(library: Library) -> dict[str, object]:
    return {Path(r.path.decode()).stem: r for r in library.photos()}


def test_indexing_names_the_place_of_each_located_photo(indexed) -> None:
    library, _ = indexed
    rows = _by_name(library)
    assert rows["nice0"].place.label() == "Nice, France"  # type: ignore[attr-defined]
    assert rows["nice0"].utc_offset == 120  # type: ignore[attr-defined]
    assert rows["paris1"].place.city == "Paris"  # type: ignore[attr-defined]
    assert rows["corsica"].place.city is None and rows["corsica"].place.country == "France"  # type: ignore[attr-defined]
    assert rows["atlantic"].place is None and rows["plain"].place is None  # type: ignore[attr-defined]


def test_places_tree_and_photos_in_a_place(indexed) -> None:
    library, _ = indexed
    tree = library.places()
    assert [(c.country, c.count, c.cities) for c in tree] == [("France", 6, (("Nice", 3), ("Paris", 2), (None, 1)))]
    names = {r.id: Path(r.path.decode()).stem for r in library.photos()}
    assert [names[i] for i in library.photos_in_place("France", "Paris")] == ["paris1", "paris0"]  # by time
    assert len(library.photos_in_place("France")) == 6


def test_search_for_a_place_alone_needs_no_model(indexed) -> None:
    library, _ = indexed
    found = {Path(r.path.decode()).stem for r in library.search("Nice")}
    assert found == {"nice0", "nice1", "nice2"}
    assert {Path(r.path.decode()).stem for r in library.search("france", limit=2)} == {"paris0", "paris1"}


def _albums(library: Library, groups: dict[str, list[str]], user_named: str | None = None) -> None:
    """Albums made as a re-cluster would (machine placements), one per group of photo stems."""
    hashes = {Path(r.path.decode()).stem: r.hash for r in library.photos()}
    catalog = library.catalog
    with catalog.transaction():
        for name, stems in groups.items():
            album_id = catalog.albums.create(name, user_named=name == user_named)
            for stem in stems:
                catalog.albums.place(hashes[stem], album_id, "auto")


def test_two_city_library_names_only_the_album_concentrated_in_one(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for i in range(5):
        gps_photo(folder / f"beach_nice{i}.jpg", NICE, taken=JULY + dt.timedelta(hours=i), color=(230, 200, 90))
    gps_photo(folder / "beach_zurich.jpg", ZURICH, taken=JULY, color=(230, 200, 90))
    for i in range(3):
        gps_photo(folder / f"food_nice{i}.jpg", NICE, taken=JULY, color=(200, 60, 60))
        gps_photo(folder / f"food_zurich{i}.jpg", ZURICH, taken=JULY, color=(200, 60, 60))
    for i in range(2):
        gps_photo(folder / f"trip{i}.jpg", NICE, taken=JULY, color=(20, 160, 60))
    for i in range(3):
        taken = dt.datetime(2019 + i, 2, 1)
        gps_photo(folder / f"snow_zurich{i}.jpg", ZURICH, taken=taken, color=(240, 240, 250))
        gps_photo(folder / f"snow_zermatt{i}.jpg", ZERMATT, taken=taken, color=(240, 240, 250))
    with Library(tmp_path / "lib") as library:
        library.index([folder], embed=False)
        stems = [Path(r.path.decode()).stem for r in library.photos()]
        _albums(
            library,
            {
                "Beach": [s for s in stems if s.startswith("beach")],
                "Food": [s for s in stems if s.startswith("food")],
                "Mountains": [s for s in stems if s.startswith("snow")],
                "Our trip": [s for s in stems if s.startswith("trip")],
            },
            user_named="Our trip",
        )
        titles = {a.name: a.title for a in library.albums.albums() if a.id is not None}
    assert titles["Beach"] == "Beach · Nice · 14 Jul 2023"
    assert titles["Food"] == "Food · 14 Jul 2023"  # half Nice, half Zürich: no place
    assert titles["Mountains"] == "Mountains · Switzerland · 2019–2021"
    assert titles["Our trip"] == "Our trip"  # the user's name is shown as given


def test_cli_places_and_photos_json(indexed, capsys) -> None:
    library, _ = indexed
    lib = str(library.directory)
    assert main(["--library", lib, "places", "--json"]) == 0
    countries = json.loads(capsys.readouterr().out)
    assert countries == [
        {
            "country": "France",
            "count": 6,
            "cities": [{"city": "Nice", "count": 3}, {"city": "Paris", "count": 2}, {"city": None, "count": 1}],
        }
    ]
    assert main(["--library", lib, "places"]) == 0
    text = capsys.readouterr().out
    assert "France" in text and "Nice" in text and "away from towns" in text
    assert main(["--library", lib, "photos", "--json"]) == 0
    rows = {Path(r["path"]).stem: r for r in json.loads(capsys.readouterr().out)}
    assert rows["nice0"]["place"] == {"city": "Nice", "region": "Provence-Alpes-Côte d'Azur", "country": "France"}
    assert rows["corsica"]["place"] == {"city": None, "region": "Corsica", "country": "France"}
    assert rows["plain"]["place"] is None and rows["atlantic"]["place"] is None


def test_cli_places_on_a_library_without_gps(tmp_path: Path, capsys) -> None:
    gps_photo(tmp_path / "photos" / "a.jpg", None)
    with Library(tmp_path / "lib") as library:
        library.index([tmp_path / "photos"], embed=False)
    assert main(["--library", str(tmp_path / "lib"), "places"]) == 0
    assert "No places yet" in capsys.readouterr().out


def _downgrade_to_version_7(catalog_path: Path) -> None:
    """The catalog as PhotoAtlas wrote it before places: no place table, no GPS columns."""
    db = sqlite3.connect(catalog_path)
    db.execute("DROP TABLE photo_places")
    for column in ("latitude", "longitude", "utc_offset", "geo_read"):
        db.execute(f"ALTER TABLE photos DROP COLUMN {column}")
    for table in [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]:
        if table.startswith("stack"):  # a later migration's tables, if this build has them
            db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version=7")
    db.commit()
    db.close()


def test_an_upgraded_catalog_gets_places_on_the_next_scan_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _photos(tmp_path / "photos")
    with Library(tmp_path / "lib") as library:
        library.index([tmp_path / "photos"], embed=False)
    _downgrade_to_version_7(tmp_path / "lib" / CATALOG_FILE)
    with Library(tmp_path / "lib") as library:
        assert all(r.place is None for r in library.photos())  # migrated: nothing read yet
        assert library.places() == []

        def no_decoding(*args: object, **kwargs: object) -> object:
            raise AssertionError("an unchanged photo was decoded again")

        monkeypatch.setattr("engine.index.indexer.decode_file", no_decoding)
        summary = library.index(embed=False)
        assert summary.added == summary.updated == 0 and summary.unchanged == 8
        rows = _by_name(library)
        assert rows["nice1"].place.city == "Nice" and rows["nice1"].utc_offset == 120  # type: ignore[attr-defined]
        assert [(c.country, c.count) for c in library.places()] == [("France", 6)]
        # Read once: the scan after that reads nothing again.
        assert library.catalog.locations_unread() == []


def test_the_gazetteer_loads_only_when_a_photo_needs_a_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geocoder_module, "_shared", None)
    monkeypatch.setattr(geocoder_module, "load_gazetteer", lambda: pytest.fail("the gazetteer was loaded"))
    gps_photo(tmp_path / "photos" / "a.jpg", None, taken=JULY)
    with Library(tmp_path / "lib") as library:
        library.index([tmp_path / "photos"], embed=False)
        library.status()
        library.albums.albums()
        library.places()
        library.photos()
    assert main(["--library", str(tmp_path / "lib"), "status"]) == 0
    assert geocoder_module._shared is None


def test_a_file_edited_without_gps_loses_its_place(indexed) -> None:
    library, photos = indexed
    gps_photo(photos["nice0"], None, taken=JULY, color=(10, 10, 10))
    library.index(embed=False)
    rows = _by_name(library)
    assert rows["nice0"].place is None  # type: ignore[attr-defined]
    assert [c.cities[0] for c in library.places()] == [("Nice", 2)]


def _video_at(path: Path, iso6709: str) -> Path:
    import av

    from tests.media_files import solid_frames

    frames = solid_frames((40, 80, 160))
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        out.metadata["location"] = iso6709  # what phones write (ISO 6709), read back as "location"
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for i in range(10):
            for packet in stream.encode(av.VideoFrame.from_image(frames(i))):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_a_video_gets_its_place_from_its_iso6709_location(tmp_path: Path) -> None:
    _video_at(tmp_path / "photos" / "clip.mp4", "+43.6950+007.2650/")
    with Library(tmp_path / "lib") as library:
        library.index([tmp_path / "photos"], embed=False)
        (row,) = library.photos()
        assert row.kind == "video" and row.place is not None and row.place.city == "Nice"


def test_places_are_redone_for_a_new_gazetteer_and_only_then(indexed) -> None:
    from engine.places.geocoder import Geocoder, Town
    from engine.places.update import update_places

    library, _ = indexed
    assert library.update_places() == 0, "every place is known: nothing to redo"
    towns = [Town("Testville", "Testshire", "XX", NICE[0], NICE[1], 5000)]
    newer = Geocoder(towns, {"XX": "Testland"}, "a newer gazetteer")
    assert update_places(library.catalog, load=lambda: newer) == 7  # the located photos, not the plain one
    assert _by_name(library)["nice0"].place.label() == "Testville, Testland"  # type: ignore[attr-defined]
    assert update_places(library.catalog, load=lambda: newer) == 0
