"""Downloading a CLIP model's pretrained weights ahead of use: progress, cancellation, resume.

The API, for the CLI (`photoatlas model download|status`) and the window's first-run dialog:

    status = weights_status(spec)            # no network: is the file here, is a download half done?
    path = download_weights(spec, progress=reporter)   # fetch it (a no-op when already here)

`download_weights` reports bytes through the engine's `ProgressReporter` (a "download" phase whose
total is the file size, then a "verify" phase) and stops at the next chunk when the reporter says
cancelled, raising `Cancelled`. What arrived is kept in a `.part` file, and the next call resumes
from it with an HTTP range request, after a cancel, a lost connection or a killed process alike.
The finished file is checked (size, and SHA-256 where the source publishes it) before it is used.

The file lands exactly where open_clip's own loading looks (the Hugging Face hub cache layout in
`cache_dir`, or `cache_dir/<file name>` for weights served from a plain URL), so the embedder keeps
loading through `open_clip.create_model_and_transforms(..., cache_dir=...)` and finds it offline.
The installed huggingface_hub cannot resume (each attempt writes a fresh uniquely named temporary
file and deletes it on failure), hence this module's own small HTTP client.

The offline alternative, a checkpoint file the user already has, needs no download: point the
library at it (`Library.set_model(name, "/path/weights.safetensors")`, or `photoatlas model use FILE`);
for such a spec `weights_status` and `download_weights` simply check that the file exists.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from engine.errors import ModelUnavailableError
from engine.paths import model_cache_dir
from engine.progress import ProgressReporter, check_cancelled, ensure_progress
from engine.settings import ModelSpec

CHUNK = 1 << 20
TIMEOUT_S = 30.0
_HUB_DEFAULT_FILE = "open_clip_pytorch_model.bin"  # open_clip's HF_WEIGHTS_NAME
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class WeightsStatus:
    """Where a model's weights stand on this computer (found without any network access).

    Attributes:
        path: the complete weights file, or None when it still has to be downloaded.
        partial_bytes: bytes of an interrupted download that the next download resumes from.
        source: where the weights come from: a URL, `hf-hub:REPO` or the local checkpoint's path.
    """

    path: Path | None
    partial_bytes: int
    source: str


@dataclass(frozen=True)
class _Hub:
    repo_id: str
    filenames: tuple[str, ...]  # in open_clip's order of preference: safetensors alternatives first
    storage: Path  # cache_dir/models--ORG--NAME

    def snapshot_file(self) -> Path | None:
        ref = self.storage / "refs" / "main"
        if not ref.is_file():
            return None
        snapshot = self.storage / "snapshots" / ref.read_text("utf-8").strip()
        return next((snapshot / f for f in self.filenames if (snapshot / f).is_file()), None)


@dataclass(frozen=True)
class _Url:
    url: str
    target: Path
    sha256_prefix: str


def weights_status(spec: ModelSpec, cache_dir: Path | None = None) -> WeightsStatus:
    """Whether `spec`'s weights are ready to load, without touching the network.

    Raises:
        ModelUnavailableError: `spec` names pretrained weights open_clip does not know.
    """
    if spec.pretrained_is_file:
        path = Path(spec.pretrained)
        return WeightsStatus(path if path.is_file() else None, 0, str(path))
    source = _source(spec, Path(cache_dir) if cache_dir else model_cache_dir())
    if isinstance(source, Path):
        return WeightsStatus(source if source.is_file() else None, 0, str(source))
    if isinstance(source, _Hub):
        parts = sum(p.stat().st_size for p in (source.storage / "blobs").glob("*.part"))
        return WeightsStatus(source.snapshot_file(), parts, f"hf-hub:{source.repo_id}")
    part = _part_path(source.target)
    return WeightsStatus(
        source.target if source.target.is_file() else None, part.stat().st_size if part.is_file() else 0, source.url
    )


def download_weights(
    spec: ModelSpec,
    cache_dir: Path | None = None,
    progress: ProgressReporter | None = None,
    *,
    endpoint: str | None = None,
) -> Path:
    """Make sure `spec`'s weights are on this computer, downloading (or resuming) them if needed.

    Args:
        spec: the model; for a local checkpoint file nothing is downloaded, its existence is checked.
        cache_dir: the model cache the embedder loads from (default: the user's PhotoAtlas model cache).
        progress: receives the phases "download" and "verify" in bytes; cancelling raises `Cancelled`
            and keeps the partial file for the next call.
        endpoint: the Hugging Face hub's address (default: huggingface_hub's, i.e. `HF_ENDPOINT`).

    Returns:
        The weights file, where open_clip will find it.

    Raises:
        ModelUnavailableError: unknown weights, no connection, server error or a corrupt download;
            the message says what to do, and bytes already fetched are kept for the next attempt.
        Cancelled: the reporter asked to stop.
    """
    progress = ensure_progress(progress)
    status = weights_status(spec, cache_dir)
    if status.path is not None:
        return status.path
    if spec.pretrained_is_file:
        raise ModelUnavailableError(f"the checkpoint file {spec.pretrained} does not exist")
    source = _source(spec, Path(cache_dir) if cache_dir else model_cache_dir())
    if isinstance(source, Path):
        raise ModelUnavailableError(f"open_clip names the local file {source} for {spec.name}, and it does not exist")
    label = f"{spec.name}/{spec.pretrained}"
    try:
        if isinstance(source, _Hub):
            return _download_from_hub(source, endpoint or _hub_endpoint(), label, progress)
        return _download_from_url(source, label, progress)
    except (urllib.error.URLError, HTTPException, OSError) as exc:  # HTTPError and timeouts are among these
        raise ModelUnavailableError(
            f"downloading the weights {label} failed: {_reason(exc)}. Check the internet connection and run the "
            f"download again: it continues where it stopped. Or use a checkpoint file you already have: "
            f"photoatlas model use FILE"
        ) from exc


def _source(spec: ModelSpec, cache_dir: Path) -> _Hub | _Url | Path:
    """Where open_clip would fetch `spec`'s weights from, and where it would look for them afterwards."""
    try:
        import open_clip
        from open_clip import pretrained as pretrained_registry
    except ImportError as exc:
        raise ModelUnavailableError(f"open_clip cannot be imported ({exc}); reinstall PhotoAtlas") from exc
    cfg: dict[str, Any] = open_clip.get_pretrained_cfg(spec.name, spec.pretrained)
    if not cfg:
        known = open_clip.list_pretrained_tags_by_model(spec.name)
        shown = ", ".join(known) if known else "none: use a local checkpoint file"
        raise ModelUnavailableError(f"unknown pretrained weights {spec.pretrained!r} for {spec.name}; known: {shown}")
    if cfg.get("file"):
        return Path(cfg["file"])
    hub = cfg.get("hf_hub", "")
    if hub and pretrained_registry.has_hf_hub():  # open_clip prefers the hub whenever it is installed
        repo_id, filename = os.path.split(hub)
        filename = filename or _HUB_DEFAULT_FILE
        names = (*pretrained_registry._get_safe_alternatives(filename), filename)
        if not getattr(pretrained_registry, "_has_safetensors", False):
            names = (filename,)
        return _Hub(repo_id, names, cache_dir / ("models--" + repo_id.replace("/", "--")))
    url = cfg.get("url", "")
    if not url:
        raise ModelUnavailableError(f"open_clip names no download for {spec.name}/{spec.pretrained}")
    name = os.path.basename(url)
    expected = ""  # the same checksum conventions as open_clip.pretrained.download_pretrained_from_url
    if "openaipublic" in url:
        expected = url.split("/")[-2]
    elif "mlfoundations" in url:
        expected = os.path.splitext(name)[0].split("-")[-1]
    return _Url(url, cache_dir / name, expected)


def _download_from_hub(hub: _Hub, endpoint: str, label: str, progress: ProgressReporter) -> Path:
    for filename in hub.filenames:
        url = f"{endpoint.rstrip('/')}/{hub.repo_id}/resolve/main/{filename}"
        meta = _hub_metadata(url)
        if meta is not None:
            break
    else:
        raise ModelUnavailableError(f"the hub has no weights file for {label} in {hub.repo_id}")
    commit, etag, size = meta
    blob = hub.storage / "blobs" / etag
    if not blob.is_file():
        # A hub etag of an LFS file is its SHA-256: a partial file of other content can never match it.
        _fetch(url, _part_path(blob), size, etag if _SHA256.fullmatch(etag) else "", progress)
        os.replace(_part_path(blob), blob)
    pointer = hub.storage / "snapshots" / commit / filename
    pointer.parent.mkdir(parents=True, exist_ok=True)
    _link(blob, pointer)
    ref = hub.storage / "refs" / "main"
    ref.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(ref, commit)
    return pointer


def _download_from_url(source: _Url, label: str, progress: ProgressReporter) -> Path:
    part = _part_path(source.target)
    _fetch(source.url, part, None, source.sha256_prefix, progress)
    os.replace(part, source.target)
    return source.target


def _hub_metadata(url: str) -> tuple[str, str, int | None] | None:
    """(commit, etag, size) of a file on the hub, from a HEAD request; None when the file does not exist."""
    opener = urllib.request.build_opener(_NoRedirect)
    for _ in range(5):  # the hub answers renamed repos with relative redirects to follow
        request = urllib.request.Request(url, method="HEAD", headers=_HEADERS)
        try:
            with opener.open(request, timeout=TIMEOUT_S) as response:
                headers = response.headers
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if exc.code in (401, 403):
                raise ModelUnavailableError(
                    f"the hub refuses {url} (HTTP {exc.code}): the model is gated or private"
                ) from exc
            if not 300 <= exc.code < 400:
                raise
            headers = exc.headers
            location = headers.get("Location", "")
            if not headers.get("X-Repo-Commit") and location:
                url = urljoin(url, location)
                continue
        commit = headers.get("X-Repo-Commit")
        etag = (headers.get("X-Linked-Etag") or headers.get("ETag") or "").removeprefix("W/").strip('"')
        size = headers.get("X-Linked-Size") or headers.get("Content-Length")
        if not commit or not etag:
            raise ModelUnavailableError(f"the server at {url} does not look like a Hugging Face hub")
        return commit, etag, int(size) if size else None
    raise ModelUnavailableError(f"too many redirects from {url}")


def _fetch(url: str, part: Path, size: int | None, sha256_prefix: str, progress: ProgressReporter) -> None:
    """Download `url` into `part`, resuming from what `part` already holds, then verify it."""
    part.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.is_file() else 0
    if size is not None and offset > size:  # not a prefix of this file: start over
        part.unlink()
        offset = 0
    if size is None or offset < size:
        headers = dict(_HEADERS, Range=f"bytes={offset}-") if offset else _HEADERS
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S)
        except urllib.error.HTTPError as exc:
            if exc.code != 416:  # 416: nothing left to send, the partial file is complete
                raise
            if size is not None and offset != size:
                part.unlink()
                raise ModelUnavailableError(
                    "the server cannot continue the download; run it again to start over"
                ) from exc
            size = offset
        else:
            with response:
                if offset and response.status != 206:  # the server ignored the range: it sends everything
                    offset = 0
                size = _total_size(response, offset) or size
                progress.phase("download", size)
                progress.advance(offset)
                with open(part, "r+b" if offset else "wb") as out:
                    out.seek(offset)
                    out.truncate()
                    while block := response.read(CHUNK):
                        out.write(block)
                        progress.advance(len(block))
                        check_cancelled(progress)
    _verify(part, size, sha256_prefix, progress)


def _verify(part: Path, size: int | None, sha256_prefix: str, progress: ProgressReporter) -> None:
    actual = part.stat().st_size
    if size is not None and actual != size:
        raise ModelUnavailableError(
            f"the download stopped at {actual} of {size} bytes; run it again to continue where it stopped"
        )
    if not sha256_prefix:
        return
    progress.phase("verify", actual)
    digest = hashlib.sha256()
    with open(part, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            progress.advance(len(block))
            check_cancelled(progress)
    if not digest.hexdigest().startswith(sha256_prefix):
        part.unlink()
        raise ModelUnavailableError(
            "the downloaded weights are corrupt (wrong checksum) and were deleted; download again"
        )


def _total_size(response: Any, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if response.status == 206 and "/" in content_range and not content_range.endswith("/*"):
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return offset + int(length) if length else None


def _link(blob: Path, pointer: Path) -> None:
    """Point the snapshot entry at the blob, like huggingface_hub: a relative symlink, else a copy."""
    pointer.unlink(missing_ok=True)
    try:
        os.symlink(os.path.relpath(blob, pointer.parent), pointer)
    except OSError:  # Windows without developer mode has no symlinks for ordinary users
        import shutil

        shutil.copyfile(blob, pointer)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, "utf-8")
    os.replace(temporary, path)


def _part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def _hub_endpoint() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.ENDPOINT)
    except ImportError:
        return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # the hub's metadata is on the redirect itself
        return None


# The size must be of the file itself, never of a compressed transfer of it.
_HEADERS = {"Accept-Encoding": "identity", "User-Agent": "PhotoAtlas (open_clip weights download)"}
