"""Place names in search queries: a place alone, or content with a place."""

from __future__ import annotations

import pytest

from engine.places.query import PlaceQuery, fold, in_place, split_place

KNOWN = {"Nice", "Paris", "France", "Zürich", "Provence-Alpes-Côte d'Azur", "New York City"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Paris", PlaceQuery("", "Paris")),
        ("paris", PlaceQuery("", "Paris")),
        ("zurich", PlaceQuery("", "Zürich")),
        ("beach in Nice", PlaceQuery("beach", "Nice")),
        ("beach in nice", PlaceQuery("beach", "Nice")),
        ("dog on the beach near Nice", PlaceQuery("dog on the beach", "Nice")),
        ("skyline in new york city", PlaceQuery("skyline", "New York City")),
        ("Nice beach", PlaceQuery("beach", "Nice")),
        ("sunset France", PlaceQuery("sunset", "France")),
        ("nice sunset", PlaceQuery("nice sunset", None)),  # an adjective, not the city
        ("beach in Rome", PlaceQuery("beach in Rome", None)),  # no photo was taken in Rome
        ("red circle", PlaceQuery("red circle", None)),
    ],
)
def test_split_place(query: str, expected: PlaceQuery) -> None:
    assert split_place(query, KNOWN) == expected


def test_without_known_places_nothing_is_a_place() -> None:
    assert split_place("beach in Nice", set()) == PlaceQuery("beach in Nice", None)


def test_in_place_matches_city_region_or_country_folded() -> None:
    assert in_place("zurich", "Zürich", "Zurich", "Switzerland")
    assert in_place("switzerland", "Zürich", "Zurich", "Switzerland")
    assert not in_place("Nice", "Paris", "Île-de-France", "France")
    assert fold("  Île-de-France ") == "ile-de-france"
