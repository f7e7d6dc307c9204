"""Where and when, from a file's metadata: EXIF GPS coordinates, its UTC offset, and ISO 6709 video locations.

Pure functions over already-read metadata (Pillow's EXIF dictionaries, a video's tags), so that decoding
(engine.media) and the cheap re-read of old photos share one reading of the same tags.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GPS_IFD = 0x8825
GPS_LATITUDE_REF = 1
GPS_LATITUDE = 2
GPS_LONGITUDE_REF = 3
GPS_LONGITUDE = 4
GPS_TIME_STAMP = 7
GPS_DATE_STAMP = 29
EXIF_OFFSET_TIME = 0x9010
EXIF_OFFSET_TIME_ORIGINAL = 0x9011

# Real UTC offsets run from -12:00 to +14:00; a difference outside that is a wrong clock, not a time zone.
_MIN_OFFSET_MIN, _MAX_OFFSET_MIN = -12 * 60, 14 * 60
# Time zones are whole quarter hours (Nepal's +05:45 is the finest); a camera clock drifts by a few minutes.
_OFFSET_STEP_MIN = 15
_OFFSET_TOLERANCE_MIN = 5
_ISO6709 = re.compile(r"^\s*([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Location:
    """A point on Earth in degrees: latitude north positive, longitude east positive, in [-180, 180]."""

    latitude: float
    longitude: float


def valid_location(latitude: object, longitude: object) -> Location | None:
    """The point when it is a real position; None for missing, out-of-range or (0, 0) values.

    (0, 0) is in the Gulf of Guinea, and is what many cameras write when they have no fix.
    """
    try:
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90.0 or abs(lon) > 180.0:
        return None
    if lat == 0.0 and lon == 0.0:
        return None
    return Location(lat, lon)


def _degrees(value: object) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals, or a single number."""
    try:
        if isinstance(value, tuple | list):
            parts = [float(v) for v in value]
            if not parts or len(parts) > 3:
                return None
            return sum(p / 60.0**i for i, p in enumerate(parts))
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _ref(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    return str(value or "").strip("\x00 ").upper()[:1]


def gps_location(gps: Mapping[int, Any]) -> Location | None:
    """The position in an EXIF GPS IFD (tags 1–4), or None when absent or broken."""
    lat, lon = _degrees(gps.get(GPS_LATITUDE)), _degrees(gps.get(GPS_LONGITUDE))
    if lat is None or lon is None:
        return None
    if _ref(gps.get(GPS_LATITUDE_REF)) == "S":
        lat = -abs(lat)
    if _ref(gps.get(GPS_LONGITUDE_REF)) == "W":
        lon = -abs(lon)
    return valid_location(lat, lon)


def parse_offset(text: object) -> int | None:
    """Minutes east of UTC from an EXIF offset ("+02:00", "-05:30"), or None."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"\s*([+-])(\d{2}):?(\d{2})\s*\x00*", text)
    if not match:
        return None
    minutes = int(match.group(2)) * 60 + int(match.group(3))
    minutes = -minutes if match.group(1) == "-" else minutes
    return minutes if _MIN_OFFSET_MIN <= minutes <= _MAX_OFFSET_MIN else None


def gps_time(gps: Mapping[int, Any]) -> dt.datetime | None:
    """The UTC time of the GPS fix (GPSDateStamp + GPSTimeStamp), naive, or None."""
    date = gps.get(GPS_DATE_STAMP)
    stamp = gps.get(GPS_TIME_STAMP)
    if isinstance(date, bytes):
        date = date.decode("ascii", errors="replace")
    if not isinstance(date, str) or not isinstance(stamp, tuple | list) or len(stamp) != 3:
        return None
    try:
        day = dt.datetime.strptime(date.strip("\x00 ")[:10], "%Y:%m:%d")
        seconds = float(stamp[0]) * 3600 + float(stamp[1]) * 60 + float(stamp[2])
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(seconds) or not 0 <= seconds < 86_400:
        return None
    return day + dt.timedelta(seconds=round(seconds))


def offset_from_gps(local: dt.datetime, utc: dt.datetime) -> int | None:
    """The UTC offset a local capture time implies against the GPS fix's UTC time, in minutes.

    Rounded to the quarter hour; None when the two clocks disagree by more than a few minutes off a real
    time zone (a camera whose clock was never set, or a fix taken long before the photo).
    """
    minutes = (local.replace(tzinfo=None) - utc).total_seconds() / 60.0
    rounded = round(minutes / _OFFSET_STEP_MIN) * _OFFSET_STEP_MIN
    if abs(minutes - rounded) > _OFFSET_TOLERANCE_MIN or not _MIN_OFFSET_MIN <= rounded <= _MAX_OFFSET_MIN:
        return None
    return int(rounded)


def iso6709_location(text: object) -> Location | None:
    """The position in an ISO 6709 string ("+48.8584+002.2945+035.000/"), as videos store it; None otherwise."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    if not isinstance(text, str):
        return None
    match = _ISO6709.match(text)
    if not match:
        return None
    return valid_location(match.group(1), match.group(2))


@dataclass(frozen=True)
class WhereAndWhen:
    """What a still's EXIF says about place and time zone."""

    location: Location | None
    utc_offset: int | None  # minutes east of UTC


def read_exif(exif: Any, local_time: dt.datetime | None) -> WhereAndWhen:
    """Place and UTC offset from a Pillow `Image.Exif`: OffsetTimeOriginal (else OffsetTime), else the
    offset between the capture time and the GPS fix's UTC time."""
    try:
        gps = exif.get_ifd(GPS_IFD)
    except (KeyError, ValueError, TypeError, OSError, AttributeError):
        gps = {}
    try:
        sub = exif.get_ifd(0x8769)
    except (KeyError, ValueError, TypeError, OSError, AttributeError):
        sub = {}
    location = gps_location(gps) if gps else None
    offset = parse_offset(sub.get(EXIF_OFFSET_TIME_ORIGINAL))
    if offset is None:
        offset = parse_offset(sub.get(EXIF_OFFSET_TIME))
    if offset is None and local_time is not None and gps:
        utc = gps_time(gps)
        offset = offset_from_gps(local_time, utc) if utc is not None else None
    return WhereAndWhen(location, offset)
