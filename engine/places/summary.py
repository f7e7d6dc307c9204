"""The place of a group of photos (an album): named only when most of its photos share it.

"Beach · Nice · Jul 2023" when most photos were taken in Nice; "Mountains · Switzerland · 2019–2022" when
they spread over several towns of one country; nothing when no place holds a majority, so an album is
never named after a place that only some of its photos share. The majority is of all the album's photos,
located or not: photos without GPS are not counted as being anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from engine.catalog.places import Place, PlaceCount

# "Most of an album's photos": strictly more than this share of all its photos.
MAJORITY = 0.5


def group_place(places: Iterable[Place | None]) -> str | None:
    """The city, else the country, that more than half of the photos share; None when none does.

    Args:
        places: one entry per photo of the group; None for a photo with no known place.
    """
    all_places = list(places)
    total = len(all_places)
    if total == 0:
        return None
    cities = Counter((p.city, p.country) for p in all_places if p is not None and p.city)
    if cities:
        (city, _country), count = cities.most_common(1)[0]
        if count > MAJORITY * total:
            return city
    countries = Counter(p.country for p in all_places if p is not None and p.country)
    if countries:
        country, count = countries.most_common(1)[0]
        if count > MAJORITY * total:
            return country
    return None


def titled(name: str, place: str | None, span: str) -> str:
    """ "Beach · Nice · Jul 2023": the name, then the place and the date span where known."""
    if place and place.casefold() in name.casefold():  # "Paris at night" needs no "· Paris"
        place = None
    return " · ".join(part for part in (name, place, span) if part)


@dataclass(frozen=True)
class CountryPlaces:
    """One country of the library's places, with its photo count and its cities (name, count), by name.

    A city None in `cities` holds the photos taken in the country but near no town (at sea, in the hills).
    """

    country: str
    count: int
    cities: tuple[tuple[str | None, int], ...]


def place_tree(counts: Iterable[PlaceCount]) -> list[CountryPlaces]:
    """Countries, then their cities, from per-city counts (already ordered by name)."""
    by_country: dict[str, list[tuple[str | None, int]]] = {}
    for row in counts:
        by_country.setdefault(row.country, []).append((row.city, row.count))
    return [CountryPlaces(c, sum(n for _, n in cities), tuple(cities)) for c, cities in by_country.items()]
