"""Weights download against a local HTTP server that behaves like the Hugging Face hub (no network)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.embed.weights import CHUNK, WeightsStatus, download_weights, weights_status
from engine.errors import Cancelled, ModelUnavailableError
from engine.progress import RecordingProgress
from engine.settings import ModelSpec

REPO = "photoatlas/tiny-test"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Serves files like the hub: HEAD on /REPO/resolve/main/FILE answers with the commit, the etag (SHA-256)
    and the size, and redirects to /cdn/SHA, which honours byte ranges. It can cut a transfer short and
    records every request."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}  # name under the repo (or under /files/) -> content
        self.requests: list[tuple[str, str, str | None]] = []
        self.cut_after: int | None = None  # the next GET of content stops after this many bytes
        self.ignore_range = False
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                hub.requests.append(("HEAD", self.path, self.headers.get("Range")))
                content = hub.lookup(self.path)
                if content is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(302)
                self.send_header("Location", f"/cdn/{hashlib.sha256(content).hexdigest()}")
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("X-Linked-Etag", f'"{hashlib.sha256(content).hexdigest()}"')
                self.send_header("X-Linked-Size", str(len(content)))
                self.end_headers()

            def do_GET(self) -> None:
                hub.requests.append(("GET", self.path, self.headers.get("Range")))
                if "/resolve/" in self.path:
                    content = hub.lookup(self.path)
                    self.send_response(302 if content is not None else 404)
                    if content is not None:
                        self.send_header("Location", f"/cdn/{hashlib.sha256(content).hexdigest()}")
                    self.end_headers()
                    return
                content = hub.lookup(self.path)
                if content is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                start = 0
                wanted = self.headers.get("Range")
                if wanted and not hub.ignore_range:
                    start = int(wanted.removeprefix("bytes=").rstrip("-"))
                    if start >= len(content):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(content) - start))
                self.end_headers()
                body = content[start:]
                if hub.cut_after is not None:
                    body, hub.cut_after = body[: hub.cut_after], None
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def lookup(self, path: str) -> bytes | None:
        if path.startswith("/cdn/"):
            sha = path.removeprefix("/cdn/")
            return next((c for c in self.files.values() if hashlib.sha256(c).hexdigest() == sha), None)
        prefix = f"/{REPO}/resolve/main/"
        if path.startswith(prefix):
            return self.files.get(path.removeprefix(prefix))
        return self.files.get(path.removeprefix("/files/")) if path.startswith("/files/") else None

    def content_gets(self) -> list[str | None]:
        """The Range header of each GET of file content."""
        return [r for method, path, r in self.requests if method == "GET" and "/resolve/" not in path]


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()
    # A short poll interval: shutdown() waits for one, and the default (0.5 s) would end every test with it.
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    thread.join()


@pytest.fixture
def weights(tiny_model: dict[str, str]) -> bytes:
    """The tiny model's checkpoint: several download chunks long."""
    content = Path(tiny_model["pretrained"]).read_bytes()
    assert len(content) > 3 * CHUNK
    return content


@pytest.fixture
def tags(tiny_model: dict[str, str], hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> dict[str, ModelSpec]:
    """Pretrained tags of the tiny model in open_clip's registry: one on the (fake) hub, one at a plain URL."""
    from open_clip import pretrained

    name = tiny_model["name"]
    monkeypatch.setitem(
        pretrained._PRETRAINED,
        name,
        {"hubtest": pretrained._pcfg(hf_hub=f"{REPO}/"), "urltest": pretrained._pcfg(url=f"{hub.url}/files/tiny.pt")},
    )
    monkeypatch.setattr("engine.embed.weights._hub_endpoint", lambda: hub.url)
    return {tag: ModelSpec(name, tag, tiny_model["config"]) for tag in ("hubtest", "urltest")}


def test_download_reports_progress_and_lands_where_open_clip_finds_it_offline(
    hub: FakeHub, weights: bytes, tags: dict[str, ModelSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.files["open_clip_pytorch_model.bin"] = weights  # no safetensors variant: the .bin is the fallback
    spec = tags["hubtest"]
    assert weights_status(spec, tmp_path).path is None
    progress = RecordingProgress()
    path = download_weights(spec, tmp_path, progress)
    assert path.read_bytes() == weights
    assert progress.phases == [("download", len(weights)), ("verify", len(weights))]
    assert progress.done == {"download": len(weights), "verify": len(weights)}
    assert ("HEAD", f"/{REPO}/resolve/main/open_clip_model.safetensors", None) in hub.requests
    assert weights_status(spec, tmp_path) == WeightsStatus(path, 0, f"hf-hub:{REPO}")
    assert not list(tmp_path.rglob("*.part"))

    requests = len(hub.requests)
    assert download_weights(spec, tmp_path) == path and len(hub.requests) == requests  # already here: no traffic

    # The embedder's normal loading path finds the file with the hub offline.
    import huggingface_hub.constants as hub_constants

    from engine.embed.embedder import load_embedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    hub.server.shutdown()
    embedder = load_embedder(spec, device="cpu", offline=True, cache_dir=tmp_path)
    assert embedder.embed_texts(["a photo"]).shape == (1, 32)


def test_an_interrupted_download_resumes_from_the_partial_file(
    hub: FakeHub, weights: bytes, tags: dict[str, ModelSpec], tmp_path: Path
) -> None:
    hub.files["open_clip_model.safetensors"] = weights
    hub.cut_after = CHUNK + 12345
    with pytest.raises(ModelUnavailableError, match="run it again"):
        download_weights(tags["hubtest"], tmp_path)
    assert weights_status(tags["hubtest"], tmp_path).partial_bytes == CHUNK + 12345

    progress = RecordingProgress()
    path = download_weights(tags["hubtest"], tmp_path, progress)
    assert hub.content_gets() == [None, f"bytes={CHUNK + 12345}-"]
    assert path.name == "open_clip_model.safetensors" and path.read_bytes() == weights
    assert progress.done["download"] == len(weights)  # the resumed bytes are counted once, at the start


def test_cancelling_keeps_a_resumable_part_file(
    hub: FakeHub, weights: bytes, tags: dict[str, ModelSpec], tmp_path: Path
) -> None:
    hub.files["open_clip_model.safetensors"] = weights
    with pytest.raises(Cancelled):
        download_weights(tags["hubtest"], tmp_path, RecordingProgress(cancel_after=2 * CHUNK))
    (part,) = tmp_path.rglob("*.part")
    assert part.stat().st_size == 2 * CHUNK
    assert weights_status(tags["hubtest"], tmp_path).path is None

    assert download_weights(tags["hubtest"], tmp_path).read_bytes() == weights
    assert hub.content_gets()[-1] == f"bytes={2 * CHUNK}-"
    assert not part.exists()


def test_a_corrupt_partial_file_is_caught_and_removed(
    hub: FakeHub, weights: bytes, tags: dict[str, ModelSpec], tmp_path: Path
) -> None:
    hub.files["open_clip_model.safetensors"] = weights
    with pytest.raises(Cancelled):
        download_weights(tags["hubtest"], tmp_path, RecordingProgress(cancel_after=CHUNK))
    (part,) = tmp_path.rglob("*.part")
    part.write_bytes(b"x" * CHUNK)  # not what the server sent
    with pytest.raises(ModelUnavailableError, match="corrupt"):
        download_weights(tags["hubtest"], tmp_path)
    assert not part.exists()
    assert download_weights(tags["hubtest"], tmp_path).read_bytes() == weights


def test_plain_url_weights_and_a_server_that_ignores_ranges(
    hub: FakeHub, weights: bytes, tags: dict[str, ModelSpec], tmp_path: Path
) -> None:
    hub.files["tiny.pt"] = weights
    hub.ignore_range = True
    with pytest.raises(Cancelled):
        download_weights(tags["urltest"], tmp_path, RecordingProgress(cancel_after=CHUNK))
    assert weights_status(tags["urltest"], tmp_path).partial_bytes == CHUNK
    path = download_weights(tags["urltest"], tmp_path)
    assert path == tmp_path / "tiny.pt"  # where open_clip.pretrained.download_pretrained_from_url looks
    assert path.read_bytes() == weights and not (tmp_path / "tiny.pt.part").exists()


def test_local_checkpoints_and_unknown_tags(tiny_model: dict[str, str], tmp_path: Path) -> None:
    local = ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    assert download_weights(local, tmp_path) == Path(tiny_model["pretrained"])
    assert weights_status(local, tmp_path).path == Path(tiny_model["pretrained"])
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        download_weights(ModelSpec(tiny_model["name"], str(tmp_path / "gone.pt")), tmp_path)
    with pytest.raises(ModelUnavailableError, match="unknown pretrained weights"):
        weights_status(ModelSpec("ViT-B-32", "no-such-tag"), tmp_path)


def test_connection_refused_says_what_to_do(tags: dict[str, ModelSpec], hub: FakeHub, tmp_path: Path) -> None:
    hub.server.shutdown()
    hub.server.server_close()
    with pytest.raises(ModelUnavailableError, match="continues where it stopped"):
        download_weights(tags["hubtest"], tmp_path)


def test_cli_model_download_status_and_use(
    hub: FakeHub, weights: bytes, tags: dict[str, ModelSpec], tmp_path: Path, monkeypatch, capsys
) -> None:
    from engine.cli.main import main
    from engine.library import Library

    monkeypatch.setattr("engine.cli.model.model_cache_dir", lambda: tmp_path / "cache")
    hub.files["open_clip_model.safetensors"] = weights
    spec = tags["hubtest"]
    with Library(tmp_path / "lib") as library:
        library.set_model(spec.name, spec.pretrained, spec.config)
    lib = ["--library", str(tmp_path / "lib")]

    assert main([*lib, "model", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ready"] is False
    assert main([*lib, "model", "download", "--no-progress"]) == 0
    assert "are ready" in capsys.readouterr().out
    assert main([*lib, "model", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["ready"] is True and status["bytes"] == len(weights) and status["source"] == f"hf-hub:{REPO}"

    assert main([*lib, "model", "use", str(tmp_path / "missing.pt")]) == 1
    assert "does not exist" in capsys.readouterr().err
    checkpoint = Path(spec.config).parent / "tiny.pt"  # the tiny model's own file, as a user's local checkpoint
    assert main([*lib, "model", "use", str(checkpoint)]) == 0
    capsys.readouterr()
    assert main([*lib, "model", "status"]) == 0
    out = capsys.readouterr().out
    assert "Weights:  ready" in out and str(checkpoint) in out
