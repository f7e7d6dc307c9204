"""Choosing a weights file: it is loaded and tried on one image before the library keeps it (issue 16, item 1).

A file of another architecture, a text file with a weights name, a cut-short download: each is refused with
a message in words, and the library keeps its previous model, in memory and on disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.errors import ModelUnavailableError
from engine.library import Library

WIDE_MODEL = "photoatlas-tiny-wide"
WIDE_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A second tiny architecture, wider than the suite's: its weights are "a different model"."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("wide-model")
    config = folder / f"{WIDE_MODEL}.json"
    config.write_text(json.dumps(WIDE_CONFIG))
    open_clip.add_model_config(config)
    torch.manual_seed(1)
    checkpoint = folder / "wide.pt"
    torch.save(open_clip.create_model(WIDE_MODEL, pretrained=None).state_dict(), checkpoint)
    return {"name": WIDE_MODEL, "config": str(config), "pretrained": str(checkpoint)}


def saved_model(library: Library) -> dict[str, object]:
    with Library(library.directory) as again:
        return dict(again.settings.model.__dict__)


def test_weights_of_another_architecture_are_refused_in_words(library, tiny_model, wide_model) -> None:
    before, on_disk = library.settings.model, saved_model(library)
    with pytest.raises(ModelUnavailableError) as info:
        library.set_model(tiny_model["name"], wide_model["pretrained"], tiny_model["config"])
    message = str(info.value)
    assert "this file holds weights for a different model (it looks like photoatlas-tiny-wide" in message
    assert "choose the file that matches photoatlas-tiny, or choose its model" in message
    assert "pos_embed" not in message and "size mismatch" not in message
    assert library.settings.model == before and saved_model(library) == on_disk
    # The same file with its own model is fine, and the model is kept loaded for the first index.
    spec = library.set_model(wide_model["name"], wide_model["pretrained"], wide_model["config"])
    assert spec.name == WIDE_MODEL and saved_model(library)["name"] == WIDE_MODEL
    assert library.embedder().dim == 32 and library.embedder().spec == spec


def test_the_config_of_another_architecture_is_refused(library, tiny_model, wide_model) -> None:
    before = library.settings.model
    with pytest.raises(ModelUnavailableError, match="different model"):
        library.set_model(tiny_model["name"], tiny_model["pretrained"], wide_model["config"])
    assert library.settings.model == before
    assert json.loads(Path(before.config).read_text())["vision_cfg"]["width"] == 32, "the library's config is kept"


@pytest.mark.parametrize("name", ["notes.jpg", "notes.pt", "notes.safetensors"])
def test_a_text_file_is_not_a_weights_file(library, tmp_path: Path, name: str, monkeypatch) -> None:
    before = library.settings.model
    notes = tmp_path / name
    notes.write_text("shopping: milk, eggs\n")
    monkeypatch.chdir(tmp_path)  # named without a folder, as `photoatlas model use notes.jpg` does
    with pytest.raises(ModelUnavailableError, match=r"this file is not a model weights file \(notes\.\w+ holds text\)"):
        library.set_model(None, name)
    assert library.settings.model == before


def test_a_cut_short_file_and_a_missing_file_are_refused(library, tiny_model, tmp_path: Path) -> None:
    before = library.settings.model
    cut = tmp_path / "cut.pt"
    cut.write_bytes(Path(tiny_model["pretrained"]).read_bytes()[:5000])
    with pytest.raises(ModelUnavailableError, match="incomplete or damaged"):
        library.set_model(None, str(cut))
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        library.set_model(None, str(tmp_path / "gone.pt"))
    assert library.settings.model == before


def test_weights_that_give_no_numbers_are_refused(library, tiny_model, tmp_path: Path) -> None:
    import torch

    state = torch.load(tiny_model["pretrained"], weights_only=True)
    state = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in state.items()}
    nan = tmp_path / "nan.pt"
    torch.save(state, nan)
    before = library.settings.model
    with pytest.raises(ModelUnavailableError, match="no usable numbers"):
        library.set_model(None, str(nan))
    assert library.settings.model == before


def test_cli_model_use_refuses_a_wrong_file_and_status_never_says_ready(
    library, tiny_model, wide_model, tmp_path: Path, capsys, monkeypatch
) -> None:
    lib = ["--library", str(library.directory)]
    library.close()
    notes = tmp_path / "notes.jpg"
    notes.write_text("not weights")
    monkeypatch.chdir(tmp_path)
    assert main([*lib, "model", "use", "notes.jpg"]) == 1
    err = capsys.readouterr().err
    assert "this file is not a model weights file" in err and "Traceback" not in err
    assert main([*lib, "model", "use", wide_model["pretrained"]]) == 1
    assert "choose the file that matches photoatlas-tiny" in capsys.readouterr().err
    assert main([*lib, "model", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["ready"] is True and status["pretrained"] == tiny_model["pretrained"], "the previous choice stays"
    # A file that stopped loading after it was chosen (replaced by other bytes) is not "ready".
    with Library(library.directory) as again:
        chosen = Path(again.settings.model.pretrained)
    chosen_copy = tmp_path / "chosen.pt"
    chosen_copy.write_bytes(chosen.read_bytes())
    with Library(library.directory) as again:
        again.set_model(None, str(chosen_copy))
    chosen_copy.write_text("overwritten")
    assert main([*lib, "model", "status"]) == 0
    out = capsys.readouterr().out
    assert "ready" not in out and "not a model weights file" in out
    assert main([*lib, "model", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ready"] is False
