"""Commands about the CLIP model's weights: `model download`, `model status`, `model use FILE`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli.common import Handler, print_json
from engine.errors import InvalidInputError, ModelUnavailableError
from engine.paths import display, model_cache_dir
from engine.settings import ModelSpec

if TYPE_CHECKING:
    from engine.library import Library


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add the parsers; returns the handler of each command."""
    model = commands.add_parser("model", help="the CLIP model's weights: download them now, check them, use a file")
    actions = model.add_subparsers(dest="model_action", metavar="ACTION", required=True)

    download = actions.add_parser(
        "download", help="download the library's model weights now; an interrupted download continues where it stopped"
    )
    download.add_argument("--model", help="another open_clip architecture than the library's (not remembered)")
    download.add_argument("--pretrained", help="its pretrained tag, e.g. laion2b_s34b_b79k")
    download.add_argument("--no-progress", action="store_true", help="no progress bar")

    status = actions.add_parser("status", help="whether the library's model weights are on this computer")
    status.add_argument("--json", action="store_true", help="print a JSON object")

    use = actions.add_parser("use", help="use a checkpoint file you already have (no download; works offline)")
    use.add_argument("file", type=Path, metavar="FILE", help="an open_clip checkpoint (.safetensors, .pt, .bin)")
    use.add_argument("--model", help="its open_clip architecture (default: the library's), e.g. ViT-B-32")
    use.add_argument("--model-config", help="JSON config registering a custom open_clip architecture")
    return {"model": _cmd_model}


def _cmd_model(library: Library, args: argparse.Namespace) -> int:
    if args.model_action == "download":
        return _download(library, args)
    if args.model_action == "status":
        return _status(library, args)
    return _use(library, args)


def _chosen_spec(library: Library, args: argparse.Namespace) -> ModelSpec:
    current = library.settings.model
    if not args.model and not args.pretrained:
        return current
    if args.model and args.model != current.name and not args.pretrained:
        raise InvalidInputError(f"choose the weights of {args.model} with --pretrained TAG")
    same = not args.model or args.model == current.name
    return ModelSpec(
        args.model or current.name, args.pretrained or current.pretrained, current.config if same else None
    )


def _download(library: Library, args: argparse.Namespace) -> int:
    from engine.embed.weights import download_weights

    spec = _chosen_spec(library, args)
    if library.settings.offline:
        print("note: this library is set to work offline; downloading because you asked to.", file=sys.stderr)
    bar = ByteBar(f"{spec.name}/{spec.pretrained}", enabled=False if args.no_progress else None)
    try:
        path = download_weights(spec, model_cache_dir(), bar)
    finally:
        bar.close()
    print(f"The weights of {spec.name}/{spec.pretrained} are ready: {display(path)}")
    return 0


def _status(library: Library, args: argparse.Namespace) -> int:
    from engine.embed.weights import weights_status

    spec = library.settings.model
    status = weights_status(spec, model_cache_dir())
    size = status.path.stat().st_size if status.path is not None else None
    problem = None
    if spec.pretrained_is_file and status.path is not None:
        # A file is "ready" only when it loads: it may have been replaced since it was chosen.
        try:
            library.try_model()
        except ModelUnavailableError as exc:
            problem = str(exc)
    if args.json:
        print_json(
            {
                "model": spec.name,
                "pretrained": display(spec.pretrained),
                "ready": status.path is not None and problem is None,
                "problem": problem,
                "path": None if status.path is None else display(status.path),
                "bytes": size,
                "partial_bytes": status.partial_bytes,
                "source": display(status.source),
                "cache_dir": display(model_cache_dir()),
                "offline": library.settings.offline,
            }
        )
        return 0
    if problem is not None:
        weights = f"the file does not load: {problem} (photoatlas model use FILE chooses another)"
    elif status.path is not None:
        weights = f"ready, {_mb(size or 0)} at {display(status.path)}"
    elif spec.pretrained_is_file:
        weights = "the checkpoint file is missing: photoatlas model use FILE"
    elif status.partial_bytes:
        weights = f"partly downloaded ({_mb(status.partial_bytes)} so far): photoatlas model download continues"
    else:
        weights = "not on this computer yet: photoatlas model download (or photoatlas model use FILE)"
    print(f"Model:    {spec.name} / {display(spec.pretrained)}")
    print(f"Weights:  {weights}")
    print(f"Source:   {display(status.source)}")
    print(f"Cache:    {display(model_cache_dir())}")
    print(f"Offline:  {'yes' if library.settings.offline else 'no'}")
    return 0


def _use(library: Library, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidInputError(f"the checkpoint file {display(args.file)} does not exist")
    # The file is loaded and tried on one image first; when it fails the library keeps its model.
    spec = library.set_model(args.model, str(args.file.expanduser().resolve()), args.model_config)
    print(f"This library now uses {spec.name} with the weights in {display(spec.pretrained)}")
    return 0


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


class ByteBar:
    """A `ProgressReporter` drawn as a tqdm bar in bytes (with MB/s and ETA) on stderr."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None

    def phase(self, name: str, total: int | None = None) -> None:
        self.close()
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                desc=f"{name} {self.label}",
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                dynamic_ncols=True,
                file=sys.stderr,
            )

    def advance(self, done: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(done)

    def is_cancelled(self) -> bool:
        return False  # Ctrl-C stops the CLI; the partial file is kept all the same

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
