"""Engine settings: a frozen dataclass per library, saved as TOML beside the catalog."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

import tomli_w

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
SETTINGS_FILE = "settings.toml"


@dataclass(frozen=True)
class ModelSpec:
    """Which CLIP model embeds the photos.

    Attributes:
        name: open_clip architecture name (e.g. "ViT-B-32"), or the name a custom config registers.
        pretrained: open_clip pretrained tag (downloaded once) or the path of a local checkpoint file.
        config: path of a JSON model config that registers a custom architecture under `name`.
    """

    name: str = DEFAULT_MODEL
    pretrained: str = DEFAULT_PRETRAINED
    config: str | None = None

    @property
    def pretrained_is_file(self) -> bool:
        """True when `pretrained` names a local checkpoint rather than a tag to download."""
        return os.sep in self.pretrained or self.pretrained.endswith((".safetensors", ".pt", ".pth", ".bin"))

    def resolved(self) -> ModelSpec:
        """The same spec with file paths made absolute, so it still works from another directory."""
        pretrained = str(Path(self.pretrained).expanduser().resolve()) if self.pretrained_is_file else self.pretrained
        config = str(Path(self.config).expanduser().resolve()) if self.config else None
        return ModelSpec(self.name, pretrained, config)

    def files_stat(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """(size, mtime_ns) of the weights file and of the config file, None for one that is not a file here: what
        tells, without reading them, that the files loaded (or hashed) before are still the same."""
        stats: list[tuple[int, int] | None] = []
        for value in (self.pretrained if self.pretrained_is_file else None, self.config):
            try:
                stat = Path(value).stat() if value else None
            except OSError:
                stat = None
            stats.append((stat.st_size, stat.st_mtime_ns) if stat is not None and S_ISREG(stat.st_mode) else None)
        return stats[0], stats[1]


def cluster_address_problem(text: str) -> str | None:
    """Why `text` is not a compute cluster address (in words, with examples), or None when it is one.

    "" and "off" mean no cluster; else "local", "auto", the head's "host:port" or "ray://host:port".
    """
    value = text.strip()
    if value in ("", "off", "local", "auto"):
        return None
    host, sep, port = value.removeprefix("ray://").rpartition(":")
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return None
    return (
        f"{text.strip()!r} is not a compute cluster address; use local, auto, the head's host:port "
        "(e.g. 192.168.1.20:6379) or ray://host:10001"
    )


def path_map_pairs(text: str) -> list[tuple[str, str]]:
    """The (this computer's folder, the workers' folder) pairs of a path map ("/Volumes/photos=/mnt/photos",
    several separated by ";"), as typed, without trailing slashes.

    Raises:
        ValueError: an entry is not "folder=folder"; the exception's argument is that entry.
    """
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        here, sep, there = part.partition("=")
        if not sep or not here.strip() or not there.strip():
            raise ValueError(part)
        pairs.append((here.strip().rstrip("/") or "/", there.strip().rstrip("/") or "/"))
    return pairs


@dataclass(frozen=True)
class LibrarySettings:
    """Engine settings of one library.

    Attributes:
        model: the CLIP model this library is embedded with; later commands reuse it.
        device: "auto" (CUDA, then Apple MPS, then CPU), or "cpu", "cuda", "mps".
        batch_size: images per model call; 0 picks one for the device.
        decode_workers: parallel decoding threads; 0 picks one from the CPU count.
        thumbnail_size: long side of cached thumbnails, in pixels.
        max_megapixels: largest decoded image accepted; bigger ones are skipped as decompression bombs.
        offline: never try to download model weights.
        dac_refine: run DAC refinement after each re-cluster (off by default; see `photoatlas refine`).
        threads: CPU cores indexing may use (decoding and the model); 0 leaves one core free on machines
            with more than 2.
        image_runtime: how the image tower runs on a CPU: "auto" (the fastest installed runtime that embeds
            like fp32, measured once per model), "torch" (fp32 PyTorch), "onnx-int8", "onnx-fp32", "openvino".
        compute_cluster: a Ray cluster that indexes (decodes, thumbnails, embeds) and re-clusters for this
            library: "" (off, the default), "local", "auto", the head's "host:port" or "ray://host:10001".
        cluster_path_map: where the cluster's workers see this computer's photo folders, e.g.
            "/Volumes/photos=/mnt/photos" (pairs separated by ";"); files they cannot see are sent as bytes.
        cluster_workers: actors to start on the cluster; 0 starts one per GPU, else one per CPU core.
    """

    model: ModelSpec = field(default_factory=ModelSpec)
    device: str = "auto"
    batch_size: int = 0
    decode_workers: int = 0
    thumbnail_size: int = 320
    max_megapixels: float = 180.0
    offline: bool = False
    dac_refine: bool = False
    threads: int = 0
    image_runtime: str = "auto"
    compute_cluster: str = ""
    cluster_path_map: str = ""
    cluster_workers: int = 0

    def index_threads(self) -> int:
        """The cores indexing uses: `threads`, or all but one on machines with more than 2."""
        cores = os.cpu_count() or 2
        if self.threads > 0:
            return min(self.threads, cores)
        return cores if cores <= 2 else cores - 1

    def replace(self, **changes: Any) -> LibrarySettings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        # TOML has no null: leave out unset optional values.
        data["model"] = {k: v for k, v in data["model"].items() if v is not None}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LibrarySettings:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if isinstance(values.get("model"), dict):
            model_known = {f.name for f in dataclasses.fields(ModelSpec)}
            values["model"] = ModelSpec(**{k: v for k, v in values["model"].items() if k in model_known})
        return cls(**values)

    def save(self, library_dir: Path) -> None:
        """Write the settings atomically to `library_dir/settings.toml`."""
        target = library_dir / SETTINGS_FILE
        tmp = target.with_suffix(".toml.tmp")
        tmp.write_bytes(tomli_w.dumps(self.to_dict()).encode("utf-8"))
        os.replace(tmp, target)

    @classmethod
    def load(cls, library_dir: Path) -> LibrarySettings:
        """The saved settings of a library, or the defaults when none were saved."""
        path = library_dir / SETTINGS_FILE
        if not path.exists():
            return cls()
        return cls.from_dict(tomllib.loads(path.read_text("utf-8")))
