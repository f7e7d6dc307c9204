"""Place names in a search query: "Paris" (a place alone) or "beach in Nice" (what, then where).

Only the names of places the library's photos carry are recognised, so a query about content never
turns into a place by accident unless a photo was taken there; and a bare word that is also a place
("nice sunset") is read as a place only when typed with a capital ("Nice sunset") or after "in", "at",
"near" or "from".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_PREPOSITIONS = ("in", "at", "near", "from", "around")


@dataclass(frozen=True)
class PlaceQuery:
    """A query split into its content (may be empty) and the place it names (None: no place)."""

    content: str
    place: str | None


def fold(text: str) -> str:
    """Case and accents folded, spaces collapsed: "Zürich" and "zurich" read the same."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def split_place(query: str, names: Iterable[str]) -> PlaceQuery:
    """The content and the place of a query, given the place names the library knows."""
    words = query.split()
    known: dict[str, str] = {}
    for name in names:
        known.setdefault(fold(name), name)
    if not words or not known:
        return PlaceQuery(" ".join(words), None)
    whole = fold(" ".join(words))
    if whole in known:
        return PlaceQuery("", known[whole])
    lengths = sorted({len(k.split()) for k in known}, reverse=True)
    # "<content> in <place>": the longest place name after the last preposition that ends the query.
    for length in lengths:
        if length + 1 >= len(words):
            continue
        tail, before = words[-length:], words[-length - 1]
        if fold(before) in _PREPOSITIONS and fold(" ".join(tail)) in known:
            return PlaceQuery(" ".join(words[: -length - 1]), known[fold(" ".join(tail))])
    # A capitalised place name at either end: "Nice beach", "beach Nice".
    for length in lengths:
        if length >= len(words):
            continue
        for part, rest in ((words[-length:], words[:-length]), (words[:length], words[length:])):
            if part[0][:1].isupper() and fold(" ".join(part)) in known:
                return PlaceQuery(" ".join(rest), known[fold(" ".join(part))])
    return PlaceQuery(" ".join(words), None)


def in_place(place: str, city: str | None, region: str | None, country: str | None) -> bool:
    """Whether a photo's place is (or lies in) the named place."""
    target = fold(place)
    return any(name and fold(name) == target for name in (city, region, country))
