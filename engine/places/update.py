"""Give located photos their place: geocode, offline, the photos whose place is missing or stale."""

from __future__ import annotations

from collections.abc import Callable

from engine.catalog import Catalog
from engine.places.geocoder import Geocoder, GeocoderUnavailable, gazetteer_version, shared_geocoder
from engine.places.gps import Location
from engine.progress import NullProgress, ProgressReporter

_BATCH = 4096


def update_places(
    catalog: Catalog,
    progress: ProgressReporter | None = None,
    load: Callable[[], Geocoder] | None = None,
) -> int:
    """Geocode the photos that need it; returns how many. The gazetteer loads only when some photo does,
    so a rescan of a library whose places are all known costs one query.

    Without the gazetteer installed nothing happens (places stay unknown, everything else works).

    Args:
        load: the geocoder to use (tests); by default the installed gazetteer, loaded once per process.
    """
    if load is None:
        version = gazetteer_version()  # names the data without reading it
        if version is None:
            return 0
        load = shared_geocoder
    else:
        version = load().version
    stale = catalog.places.stale(version)
    if not stale:
        return 0
    try:
        geocoder = load()
    except GeocoderUnavailable:
        return 0
    progress = progress or NullProgress()
    progress.phase("Naming places", len(stale))
    for start in range(0, len(stale), _BATCH):
        batch = stale[start : start + _BATCH]
        found = geocoder.places([Location(lat, lon) for _, lat, lon in batch])
        catalog.places.put(geocoder.version, [(i, lat, lon, p) for (i, lat, lon), p in zip(batch, found, strict=True)])
        progress.advance(len(batch))
    return len(stale)
