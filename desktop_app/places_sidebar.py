"""The sidebar's Places: countries with their photo counts, and under an opened country its cities.

Qt-free: the rows as data, from the engine's place tree (`Library.places`, through the service); the
album list model turns them into sidebar entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Any

AWAY_FROM_TOWNS = "Away from towns"  # a country's photos taken near no town (at sea, in the hills)


@dataclass(frozen=True)
class PlaceRow:
    """One Places row: a country (city None, depth 0) or one of its cities (depth 1; city "" away from towns)."""

    country: str
    city: str | None
    count: int
    depth: int
    expandable: bool = False
    expanded: bool = False

    @property
    def key(self) -> str:
        """Unique among the rows: the country, or country and city."""
        return self.country if self.city is None else f"{self.country}\x1f{self.city}"

    @property
    def title(self) -> str:
        if self.city is None:
            return self.country
        return self.city or AWAY_FROM_TOWNS


def place_rows(countries: Iterable[Any], expanded: Set[str]) -> list[PlaceRow]:
    """Rows for `Library.places()` (countries with their cities): every country, and the cities of those
    whose names are in `expanded`."""
    rows: list[PlaceRow] = []
    for country in countries:
        is_open = country.country in expanded
        rows.append(PlaceRow(country.country, None, country.count, 0, bool(country.cities), is_open))
        if is_open:
            rows.extend(PlaceRow(country.country, city or "", count, 1) for city, count in country.cities)
    return rows


def place_tooltip(country: str, city: str | None, count: int) -> str:
    """ "12 photos taken in Nice, France" and the like."""
    photos = f"{count} photo{'s' if count != 1 else ''}"
    if city is None:
        return f"{photos} taken in {country}"
    if city == "":
        return f"{photos} taken in {country}, away from any town"
    return f"{photos} taken in {city}, {country}"
