"""An album's place: the city (else country) most of its photos share; never a minority's place."""

from __future__ import annotations

from engine.catalog.places import Place, PlaceCount
from engine.places.summary import group_place, place_tree, titled

NICE = Place("Nice", "Provence-Alpes-Côte d'Azur", "France", "FR")
PARIS = Place("Paris", "Île-de-France", "France", "FR")
ZURICH = Place("Zürich", "Zurich", "Switzerland", "CH")
ZERMATT = Place("Zermatt", "Valais", "Switzerland", "CH")
OFFSHORE = Place(None, "Corsica", "France", "FR")


def test_most_photos_in_one_city_name_the_city() -> None:
    assert group_place([NICE] * 6 + [PARIS] * 4) == "Nice"


def test_half_is_not_most() -> None:
    assert group_place([NICE] * 5 + [ZURICH] * 5) is None


def test_photos_spread_over_one_country_name_the_country() -> None:
    assert group_place([ZURICH] * 4 + [ZERMATT] * 4 + [NICE] * 2) == "Switzerland"


def test_photos_without_a_place_count_against_the_majority() -> None:
    assert group_place([NICE] * 4 + [None] * 6) is None
    assert group_place([NICE] * 6 + [None] * 4) == "Nice"


def test_photos_at_sea_count_for_their_country_only() -> None:
    assert group_place([OFFSHORE] * 3 + [NICE] * 3 + [PARIS]) == "France"


def test_empty_album_has_no_place() -> None:
    assert group_place([]) is None


def test_titles_read_name_place_dates() -> None:
    assert titled("Beach", "Nice", "Jul 2023") == "Beach · Nice · Jul 2023"
    assert titled("Mountains", "Switzerland", "2019–2022") == "Mountains · Switzerland · 2019–2022"
    assert titled("Beach", None, "Jul 2023") == "Beach · Jul 2023"
    assert titled("Beach", "Nice", "") == "Beach · Nice"
    assert titled("Paris at night", "Paris", "2021") == "Paris at night · 2021"


def test_place_tree_groups_cities_under_countries() -> None:
    tree = place_tree(
        [
            PlaceCount("France", "Nice", "PACA", 4),
            PlaceCount("France", "Paris", "IdF", 2),
            PlaceCount("France", None, "Corsica", 1),
            PlaceCount("Switzerland", "Zürich", "Zurich", 3),
        ]
    )
    assert [(c.country, c.count) for c in tree] == [("France", 7), ("Switzerland", 3)]
    assert tree[0].cities == (("Nice", 4), ("Paris", 2), (None, 1))
