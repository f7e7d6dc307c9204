"""installer/install.sh end to end: install into a temporary home, run, upgrade, uninstall (no network).

The package is built from this checkout into a wheel and installed from it. To stay fast and offline, the
private environment reuses this test environment's packages (PyTorch, Qt, ...) through the installer's
`--with-site-packages DIR --no-deps --torch skip` options, and pip runs with PIP_NO_INDEX=1, so nothing can
come from a registry. The PyTorch build choice itself is checked separately with `--dry-run`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.conftest import snapshot_tree

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "installer" / "install.sh"

pytestmark = pytest.mark.skipif(
    sys.platform not in ("linux", "darwin"), reason="install.sh is the Linux and macOS installer (install.ps1: Windows)"
)


def _home_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "PIP_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        PIP_NO_INDEX="1",  # a registry would be a network access: fail instead
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        QT_QPA_PLATFORM="offscreen",
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PhotoAtlas built from this checkout (copied first: a build writes into its source folder)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("engine", "desktop_app", "resources"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    args = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out)]
    _run([*args, str(source)], _home_env(source))
    (built,) = out.glob("photoatlas-*.whl")
    return built


@pytest.mark.slow
def test_install_run_upgrade_and_uninstall(wheel: Path, tmp_path: Path, make_photo) -> None:
    home = tmp_path / "my home"  # a space in the launcher's path: the menu entry must quote it
    home.mkdir()
    env = _home_env(home)
    prefix = tmp_path / "program files"
    install = [
        "bash",
        str(INSTALL),
        "--prefix",
        str(prefix),
        "--from",
        str(wheel),
        "--torch",
        "skip",
        "--no-deps",
        "--with-site-packages",
        sysconfig.get_path("purelib"),
    ]
    _run(install, env)

    # The command starts and reports the package's version.
    launcher = home / ".local" / "bin" / "photoatlas"
    from importlib.metadata import version

    import engine

    assert _run([str(launcher), "--version"], env).stdout.strip() == f"photoatlas {engine.__version__}"
    assert engine.__version__ == version("photoatlas")
    probe = "import engine; print(engine.__file__)"
    assert Path(_run([str(prefix / "venv" / "bin" / "python"), "-c", probe], env).stdout.strip()).is_relative_to(
        prefix
    ), "the program must run from its private environment, not from the reused packages"

    # The menu entry (Linux) validates, starts the launcher and finds its icon.
    if sys.platform == "linux":
        entry = home / ".local" / "share" / "applications" / "photoatlas.desktop"
        text = entry.read_text("utf-8")
        assert f'Exec="{launcher}"' in text and "Icon=photoatlas" in text
        for size in (16, 48, 256, 512):
            assert (home / f".local/share/icons/hicolor/{size}x{size}/apps/photoatlas.png").is_file()
        assert (home / ".local/share/icons/hicolor/scalable/apps/photoatlas.svg").is_file()
        validator = shutil.which("desktop-file-validate")
        if validator is None:
            pytest.skip("desktop-file-validate is not installed (apt package desktop-file-utils; .ci/run installs it)")
        checked = subprocess.run([validator, str(entry)], capture_output=True, text=True)
        assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr

    # The user's photos go into the default library, in the user data folder.
    photos = tmp_path / "Pictures"
    for i in range(3):
        make_photo(photos / f"p{i}.jpg", color=(40 * i, 90, 200))
    before = snapshot_tree(photos)
    _run([str(launcher), "index", str(photos), "--no-embed", "--no-progress"], env)
    library = home / ".local" / "share" / "PhotoAtlas" / "library"
    assert library.is_dir() and any(library.iterdir())

    # Running the installer again upgrades in place: same files, still working, the library untouched.
    manifest = (prefix / "installed-files").read_text("utf-8")
    _run(install, env)
    assert (prefix / "installed-files").read_text("utf-8") == manifest
    assert _run([str(launcher), "photos", "--json"], env).stdout.count('"path"') == 3

    # Uninstall, declining to delete the data: the program goes, catalogs and photos stay.
    done = _run(["bash", str(INSTALL), "--uninstall", "--prefix", str(prefix)], env, stdin="n\n")
    assert "[y/N]" in done.stdout and "Kept the catalogs" in done.stdout
    assert not prefix.exists() and not launcher.exists()
    assert not (home / ".local" / "share" / "applications" / "photoatlas.desktop").exists()
    assert not list((home / ".local" / "share").glob("icons/hicolor/*/apps/photoatlas.*"))
    assert library.is_dir() and any(library.iterdir())
    assert snapshot_tree(photos) == before

    # Installed again, it finds the library; uninstalling with a yes deletes catalogs and caches, not photos.
    _run(install, env)
    assert _run([str(launcher), "photos", "--json"], env).stdout.count('"path"') == 3
    done = _run(["bash", str(INSTALL), "--uninstall", "--prefix", str(prefix)], env, stdin="y\n")
    assert "Deleted the catalogs" in done.stdout
    assert not (home / ".local" / "share" / "PhotoAtlas").exists() and not prefix.exists()
    assert snapshot_tree(photos) == before


def _plan(tmp_path: Path, *options: str, nvidia: str | None = None, uname: tuple[str, str] | None = None) -> str:
    """The installer's --dry-run plan, with a fake nvidia-smi (printing `nvidia`) and uname on the PATH."""
    fakes = tmp_path / "fakes"
    fakes.mkdir(exist_ok=True)
    for tool in ("nvidia-smi", "uname"):
        (fakes / tool).unlink(missing_ok=True)
    if nvidia is not None:
        (fakes / "nvidia-smi").write_text(f"#!/bin/sh\necho '{nvidia}'\n")
        (fakes / "nvidia-smi").chmod(0o755)
    if uname is not None:
        (fakes / "uname").write_text(f'#!/bin/sh\n[ "$1" = -m ] && echo {uname[1]} || echo {uname[0]}\n')
        (fakes / "uname").chmod(0o755)
    # Keep only the system folders on PATH, so a real nvidia-smi cannot answer instead of the fake.
    path = f"{fakes}:/usr/bin:/bin"
    env = _home_env(tmp_path, PATH=path)
    env.pop("PHOTOATLAS_TORCH_INDEX", None)
    return _run(["bash", str(INSTALL), "--dry-run", *options], env).stdout


def test_pytorch_build_follows_the_machine(tmp_path: Path) -> None:
    smi = "| NVIDIA-SMI 570.86   Driver Version: 570.86   CUDA Version: {} |"
    linux = ("Linux", "x86_64")
    assert "https://download.pytorch.org/whl/cpu" in _plan(tmp_path, uname=linux)
    assert "pytorch build: cu128" in _plan(tmp_path, nvidia=smi.format("12.8"), uname=linux)
    assert "https://download.pytorch.org/whl/cu126" in _plan(tmp_path, nvidia=smi.format("12.7"), uname=linux)
    assert "pytorch build: cu130" in _plan(tmp_path, nvidia=smi.format("13.1"), uname=linux)
    assert "pytorch build: cpu" in _plan(tmp_path, nvidia=smi.format("11.8"), uname=linux)  # driver too old
    mac = _plan(tmp_path, uname=("Darwin", "arm64"))
    assert "pytorch build: mps" in mac and "PyPI" in mac and "Library/Application Support/PhotoAtlas-app" in mac
    forced = _plan(tmp_path, "--torch", "cpu", "--torch-index", "http://mirror/cpu", nvidia=smi.format("12.8"))
    assert "pytorch build: cpu" in forced and "http://mirror/cpu" in forced


def test_installer_pins_the_same_pytorch_as_the_package() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    wanted = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0]: d.replace(" ", "") for d in dependencies}
    script = INSTALL.read_text("utf-8")
    assert f'TORCH_REQ="{wanted["torch"]}"' in script
    assert f'TORCHVISION_REQ="{wanted["torchvision"]}"' in script
    build = (ROOT / "installer" / "build_linux.sh").read_text("utf-8")
    assert f'"{wanted["torch"]}" "{wanted["torchvision"]}"' in build


def test_uninstall_without_an_installation_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(INSTALL), "--uninstall", "--prefix", str(tmp_path / "none")],
        env=_home_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "no PhotoAtlas installation" in done.stderr
