"""Reading where and in which time zone a photo was taken: EXIF GPS, OffsetTimeOriginal, GPS time, ISO 6709."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PIL.TiffImagePlugin import IFDRational

from engine.media.decode import DecodedPhoto, DecodeOptions, decode_file, read_location
from engine.places.gps import (
    gps_location,
    iso6709_location,
    offset_from_gps,
    parse_offset,
    valid_location,
)
from tests.engine.places.gps_photos import NICE, TAVEUNI_EAST, gps_photo


def _r(*values: float) -> tuple[IFDRational, ...]:
    return tuple(IFDRational(round(v * 1000), 1000) for v in values)


def test_gps_ifd_gives_signed_degrees_from_refs() -> None:
    where = gps_location({1: "S", 2: _r(33, 51, 54), 3: "W", 4: _r(151, 12, 36)})
    assert where is not None
    assert where.latitude == pytest.approx(-(33 + 51 / 60 + 54 / 3600))
    assert where.longitude == pytest.approx(-(151 + 12 / 60 + 36 / 3600))
    north_east = gps_location({1: b"N\x00", 2: _r(43, 41, 42), 3: b"E\x00", 4: _r(7, 15, 54)})
    assert north_east is not None and north_east.latitude > 0 and north_east.longitude > 0


@pytest.mark.parametrize(
    "gps",
    [
        {},
        {1: "N", 2: _r(0, 0, 0), 3: "E", 4: _r(0, 0, 0)},  # (0, 0): a camera without a fix
        {1: "N", 2: _r(91, 0, 0), 3: "E", 4: _r(7, 0, 0)},  # past the pole
        {1: "N", 2: _r(43, 0, 0), 3: "E", 4: _r(181, 0, 0)},
        {1: "N", 2: (IFDRational(1, 0), IFDRational(0, 1), IFDRational(0, 1)), 3: "E", 4: _r(7, 0, 0)},
        {1: "N", 2: "forty-three", 3: "E", 4: _r(7, 0, 0)},
        {1: "N", 2: _r(43, 0, 0, 0), 3: "E", 4: _r(7, 0, 0)},
    ],
)
def test_missing_or_broken_gps_is_no_position(gps: dict[int, object]) -> None:
    assert gps_location(gps) is None


def test_valid_location_refuses_non_numbers() -> None:
    assert valid_location("x", 1) is None and valid_location(float("nan"), 1) is None
    assert valid_location(-16.8, -179.99) is not None


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("+02:00", 120), ("-05:30", -330), ("+05:45", 345), (b"+12:00\x00", 720), ("+0100", 60), ("+15:00", None)],
)
def test_exif_offsets_read_as_minutes_east_of_utc(text: object, minutes: int | None) -> None:
    assert parse_offset(text) == minutes


@pytest.mark.parametrize("text", ["", "UTC", "02:00", "+2:00", None, 5])
def test_unreadable_offsets_are_unknown(text: object) -> None:
    assert parse_offset(text) is None


def test_offset_from_gps_time_rounds_to_a_real_time_zone() -> None:
    utc = dt.datetime(2023, 6, 30, 21, 0, 5)
    assert offset_from_gps(dt.datetime(2023, 7, 1, 9, 0, 0), utc) == 720  # Fiji, across midnight
    assert offset_from_gps(dt.datetime(2023, 6, 30, 15, 2, 0), utc) == -360  # a clock 2 minutes off
    assert offset_from_gps(dt.datetime(2023, 7, 1, 2, 45, 5), utc) == 345  # Nepal's quarter hour
    assert offset_from_gps(dt.datetime(2023, 6, 30, 21, 40, 0), utc) is None  # 40 min: a wrong clock
    assert offset_from_gps(dt.datetime(2023, 7, 2, 21, 0, 0), utc) is None  # two days: never a time zone


def test_iso6709_as_videos_write_it() -> None:
    where = iso6709_location("+48.8584+002.2945+035.000/")
    assert where is not None and (where.latitude, where.longitude) == (48.8584, 2.2945)
    west = iso6709_location(b"-16.8000-179.9900/")
    assert west is not None and west.longitude == -179.99
    assert iso6709_location("somewhere") is None and iso6709_location(None) is None


def test_decoding_a_photo_reads_its_position_and_offset(tmp_path: Path) -> None:
    path = gps_photo(tmp_path / "nice.jpg", NICE, taken=dt.datetime(2023, 7, 14, 10, 0), offset="+02:00")
    result = decode_file(path, DecodeOptions(), None)
    assert isinstance(result, DecodedPhoto)
    assert result.meta.latitude == pytest.approx(NICE[0], abs=1e-5)
    assert result.meta.longitude == pytest.approx(NICE[1], abs=1e-5)
    assert result.meta.utc_offset == 120


def test_offset_comes_from_gps_time_when_the_camera_wrote_none(tmp_path: Path) -> None:
    path = gps_photo(
        tmp_path / "fiji.jpg",
        TAVEUNI_EAST,
        taken=dt.datetime(2023, 7, 1, 9, 0),
        gps_utc=dt.datetime(2023, 6, 30, 21, 0, 5),
    )
    result = decode_file(path, DecodeOptions(), None)
    assert isinstance(result, DecodedPhoto)
    assert result.meta.utc_offset == 720 and result.meta.taken_at == "2023-07-01T09:00:00"
    assert result.meta.longitude == pytest.approx(-179.99, abs=1e-5)


def test_offset_time_original_wins_over_gps_time(tmp_path: Path) -> None:
    path = gps_photo(
        tmp_path / "a.jpg",
        NICE,
        taken=dt.datetime(2023, 7, 1, 12, 0),
        offset="+02:00",
        gps_utc=dt.datetime(2023, 7, 1, 2),
    )
    assert read_location(path)[2] == 120


def test_a_photo_without_a_capture_time_is_dated_by_its_gps_fix_in_its_time_zone(tmp_path: Path) -> None:
    path = gps_photo(tmp_path / "a.jpg", NICE, offset="+02:00", gps_utc=dt.datetime(2023, 7, 14, 8, 30, 0))
    result = decode_file(path, DecodeOptions(), None)
    assert isinstance(result, DecodedPhoto)
    assert (result.meta.taken_at, result.meta.taken_at_source) == ("2023-07-14T10:30:00", "gps")


def test_photos_without_gps_have_no_position(tmp_path: Path) -> None:
    path = gps_photo(tmp_path / "plain.jpg", None, taken=dt.datetime(2020, 1, 1))
    result = decode_file(path, DecodeOptions(), None)
    assert isinstance(result, DecodedPhoto)
    assert (result.meta.latitude, result.meta.longitude, result.meta.utc_offset) == (None, None, None)


def test_read_location_parses_the_header_only_and_never_fails(tmp_path: Path) -> None:
    path = gps_photo(tmp_path / "nice.jpg", NICE, taken=dt.datetime(2023, 7, 14, 10, 0), offset="+02:00")
    lat, lon, offset = read_location(path)
    assert lat == pytest.approx(NICE[0], abs=1e-5) and lon == pytest.approx(NICE[1], abs=1e-5) and offset == 120
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    assert read_location(tmp_path / "bad.jpg") == (None, None, None)
    assert read_location(tmp_path / "gone.jpg") == (None, None, None)


def test_a_heic_photo_carries_its_position_too(tmp_path: Path) -> None:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    jpeg = gps_photo(tmp_path / "src.jpg", NICE, taken=dt.datetime(2023, 7, 14, 10, 0), offset="+02:00")
    with Image.open(jpeg) as image:
        image.save(tmp_path / "nice.heic", "HEIF", exif=image.getexif().tobytes())
    result = decode_file(tmp_path / "nice.heic", DecodeOptions(), None)
    assert isinstance(result, DecodedPhoto)
    assert result.meta.latitude == pytest.approx(NICE[0], abs=1e-5) and result.meta.utc_offset == 120
    assert read_location(tmp_path / "nice.heic")[:2] == pytest.approx(NICE, abs=1e-5)
