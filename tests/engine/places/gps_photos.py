"""Photos with EXIF GPS written by Pillow: a position, and optionally a capture time, offset and GPS time."""

from __future__ import annotations

import datetime as dt
import os
import zlib
from pathlib import Path

from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

# Known places (latitude, longitude) and what the geocoder should call them.
NICE = (43.6950, 7.2650)  # the Promenade des Anglais
PARIS = (48.8530, 2.3499)  # Notre-Dame
EIFFEL_TOWER = (48.8584, 2.2945)  # nearest town is Neuilly-sur-Seine, but people say Paris
ZERMATT = (46.0207, 7.7491)
ZURICH = (47.3769, 8.5417)
MID_ATLANTIC = (40.0, -40.0)  # 750 km from the Azores
OFF_CORSICA = (42.30, 8.20)  # 40 km out to sea west of Corsica: region and country, no city
# Taveuni, Fiji, where the 180th meridian crosses the island: east of it longitudes are negative.
TAVEUNI_EAST = (-16.80, -179.99)


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60 * 10000)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 10000)


def gps_photo(
    path: Path,
    position: tuple[float, float] | None,
    *,
    color: tuple[int, int, int] = (40, 120, 200),
    taken: dt.datetime | None = None,
    offset: str | None = None,
    gps_utc: dt.datetime | None = None,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """A JPEG at `path` whose EXIF says where (and when) it was taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, color)
    crc = zlib.crc32(os.fsencode(path))  # a mark of its own, so that no two test photos share content
    draw = ImageDraw.Draw(image)
    x, y = crc % (size[0] - 4), (crc >> 8) % (size[1] - 4)
    draw.rectangle((x, y, x + 3, y + 3), fill=tuple(255 - c for c in color))
    exif = image.getexif()
    sub = exif.get_ifd(0x8769)
    if taken is not None:
        sub[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if offset is not None:
        sub[0x9011] = offset
    gps = exif.get_ifd(0x8825)
    if position is not None:
        lat, lon = position
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _dms(lat)
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _dms(lon)
    if gps_utc is not None:
        gps[7] = (IFDRational(gps_utc.hour, 1), IFDRational(gps_utc.minute, 1), IFDRational(gps_utc.second, 1))
        gps[29] = gps_utc.strftime("%Y:%m:%d")
    image.save(path, "JPEG", exif=exif)
    return path
