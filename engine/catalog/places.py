"""The place table: the city, region and country of each located photo (`photo_places`, migration 8).

Places are the machine's reading of a photo's GPS position through an offline gazetteer; each row keeps
the coordinates and the gazetteer it came from, so a photo whose position changed (an edited file) or a
newer gazetteer shows up as stale and is geocoded again, and nothing else is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.catalog.connection import Connection


@dataclass(frozen=True)
class Place:
    """Where a photo was taken, in people's words; city None at sea or far from any town."""

    city: str | None
    region: str | None
    country: str | None
    country_code: str | None = None

    def label(self) -> str:
        """ "Nice, France", "Valais, Switzerland", "Fiji", or "" when nothing is known."""
        return ", ".join(p for p in (self.city or self.region, self.country) if p)

    def as_dict(self) -> dict[str, str | None]:
        return {"city": self.city, "region": self.region, "country": self.country}


@dataclass(frozen=True)
class PlaceCount:
    """Photos taken in one city (city None: in the country, but in no town)."""

    country: str
    city: str | None
    region: str | None
    count: int


class PlaceTables:
    """Owner of `photo_places`; reached as `catalog.places`."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def stale(self, geocoder: str) -> list[tuple[int, float, float]]:
        """(photo id, latitude, longitude) of located photos with no place from this gazetteer at their
        current position."""
        rows = self._c.execute(
            "SELECT p.id, p.latitude, p.longitude FROM photos p LEFT JOIN photo_places g ON g.photo_id=p.id"
            " WHERE p.latitude IS NOT NULL AND p.longitude IS NOT NULL AND (g.photo_id IS NULL"
            " OR g.geocoder!=? OR g.latitude!=p.latitude OR g.longitude!=p.longitude)"
            " ORDER BY p.id",
            (geocoder,),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def put(self, geocoder: str, rows: Iterable[tuple[int, float, float, Place | None]]) -> None:
        """Store each photo's place (None: too far from any town to name one) as computed at (lat, lon)."""
        with self._c.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO photo_places(photo_id, latitude, longitude, city, region, country,"
                " country_code, geocoder) VALUES(?,?,?,?,?,?,?,?)",
                [
                    (
                        photo_id,
                        lat,
                        lon,
                        place.city if place else None,
                        place.region if place else None,
                        place.country if place else None,
                        place.country_code if place else None,
                        geocoder,
                    )
                    for photo_id, lat, lon, place in rows
                ],
            )
            # A photo that lost its position (the file was edited without GPS) loses its place too.
            db.execute("DELETE FROM photo_places WHERE photo_id IN (SELECT id FROM photos WHERE latitude IS NULL)")

    def of_photos(self) -> dict[int, Place]:
        """Photo id → place, for every photo with a named place at its current position."""
        rows = self._c.execute(
            "SELECT g.photo_id, g.city, g.region, g.country, g.country_code FROM photo_places g"
            " JOIN photos p ON p.id=g.photo_id AND p.latitude=g.latitude AND p.longitude=g.longitude"
            " WHERE g.country IS NOT NULL OR g.city IS NOT NULL"
        )
        return {r[0]: Place(r[1], r[2], r[3], r[4]) for r in rows}

    def by_hash(self) -> dict[str, Place]:
        """Content hash → place of a photo with that content (copies share their content's place)."""
        rows = self._c.execute(
            "SELECT p.hash, g.city, g.region, g.country, g.country_code FROM photo_places g"
            " JOIN photos p ON p.id=g.photo_id AND p.latitude=g.latitude AND p.longitude=g.longitude"
            " WHERE g.country IS NOT NULL OR g.city IS NOT NULL"
        )
        # One Place per distinct place, shared by its photos: a library has few places and many photos, and
        # the album list asks for this on every action.
        shared: dict[tuple[str | None, ...], Place] = {}
        out: dict[str, Place] = {}
        for hash_, *fields in rows:
            key = tuple(fields)
            place = shared.get(key)
            if place is None:
                place = shared[key] = Place(*key)
            out[hash_] = place
        return out

    def counts(self) -> list[PlaceCount]:
        """Photos per (country, city), countries and cities by name."""
        rows = self._c.execute(
            "SELECT g.country, g.city, MIN(g.region), COUNT(*) FROM photo_places g"
            " JOIN photos p ON p.id=g.photo_id AND p.latitude=g.latitude AND p.longitude=g.longitude"
            " WHERE g.country IS NOT NULL GROUP BY g.country, g.city"
            " ORDER BY g.country COLLATE NOCASE, g.city IS NULL, g.city COLLATE NOCASE"
        )
        return [PlaceCount(r[0], r[1], r[2], r[3]) for r in rows]

    def photos_in(self, country: str, city: str | None = None) -> list[int]:
        """Photo ids taken in a country (and a city of it, when given; "" for those near no town), in capture
        order."""
        sql = (
            "SELECT p.id FROM photo_places g JOIN photos p ON p.id=g.photo_id AND p.latitude=g.latitude"
            " AND p.longitude=g.longitude WHERE g.country=?"
        )
        params: list[object] = [country]
        if city == "":
            sql += " AND g.city IS NULL"
        elif city is not None:
            sql += " AND g.city=?"
            params.append(city)
        sql += " ORDER BY p.taken_at IS NULL, p.taken_at, p.path"
        return [r[0] for r in self._c.execute(sql, params)]

    def names(self) -> set[str]:
        """Every city, region and country name a photo of the library carries (for reading search queries)."""
        rows = self._c.execute("SELECT DISTINCT city, region, country FROM photo_places")
        return {name for row in rows for name in row if name}
