"""The check for Qt's X11 system libraries: which are missing, which packages hold them, and the launcher's exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import launcher, platform_check
from desktop_app.platform_check import (
    PACKAGES,
    XCB_LIBRARIES,
    MissingLibraries,
    SystemLibraryProbe,
    distribution_family,
    find_missing_libraries,
    parse_ldd,
    window_platform,
)

UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n'
MINT = 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\n'
ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
ARCH = 'NAME="Arch Linux"\nID=arch\n'
MANJARO = 'NAME="Manjaro Linux"\nID=manjaro\nID_LIKE=arch\n'
SUSE = 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n'
X11 = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}
# What the fresh system lacked first: the ICCCM helper, though Qt's message blamed the cursor library.
FRESH = {"libxcb-icccm.so.4", "libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libEGL.so.1"}


def _missing(os_release: str, absent: set[str], environ: dict[str, str] | None = None, system: str = "Linux"):
    return find_missing_libraries(
        environ=X11 if environ is None else environ,
        system=system,
        os_release=os_release,
        is_present=lambda lib: lib not in absent,
    )


@pytest.mark.parametrize(
    ("os_release", "family", "command"),
    [
        (UBUNTU, "debian", "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0 libegl1"),
        (MINT, "debian", "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0 libegl1"),
        (FEDORA, "fedora", "sudo dnf install xcb-util-cursor xcb-util-wm libxkbcommon-x11 mesa-libEGL"),
        (ROCKY, "fedora", "sudo dnf install xcb-util-cursor xcb-util-wm libxkbcommon-x11 mesa-libEGL"),
        (ARCH, "arch", "sudo pacman -S --needed xcb-util-cursor xcb-util-wm libxkbcommon-x11 libglvnd"),
        (MANJARO, "arch", "sudo pacman -S --needed xcb-util-cursor xcb-util-wm libxkbcommon-x11 libglvnd"),
    ],
)
def test_missing_libraries_give_the_distributions_packages(os_release: str, family: str, command: str) -> None:
    missing = _missing(os_release, FRESH)
    assert missing is not None and missing.family == family
    assert set(missing.libraries) == FRESH
    assert missing.command(family) == command
    message = missing.message()
    assert command in message and "libxcb-icccm.so.4" in message
    # The user's own distribution only: no other package manager to confuse them.
    others = {"apt-get", "dnf", "pacman"} - {command.split()[1]}
    assert not any(tool in message for tool in others)
    assert message.startswith("PhotoAtlas's window cannot start")


def test_unknown_distribution_gets_all_three_commands() -> None:
    for os_release in (SUSE, ""):
        missing = _missing(os_release, {"libxcb-icccm.so.4"})
        assert missing is not None and missing.family is None
        message = missing.message()
        assert "sudo apt-get install libxcb-icccm4" in message
        assert "sudo dnf install xcb-util-wm" in message
        assert "sudo pacman -S --needed xcb-util-wm" in message


def test_libraries_of_one_package_name_it_once() -> None:
    absent = {"libxcb-randr.so.0", "libxcb-shape.so.0", "libxcb-xkb.so.1", "libglib-2.0.so.0", "libgthread-2.0.so.0"}
    missing = _missing(FEDORA, absent)
    assert missing is not None
    assert missing.command("fedora") == "sudo dnf install libxcb glib2"
    assert missing.command("debian") == "sudo apt-get install libxcb-randr0 libxcb-shape0 libxcb-xkb1 libglib2.0-0"


def test_a_library_without_a_known_package_is_still_named() -> None:
    missing = find_missing_libraries(
        environ=X11,
        system="Linux",
        os_release=UBUNTU,
        is_present=lambda lib: lib != "libfoo.so.3",
        required=[*XCB_LIBRARIES, "libfoo.so.3"],
    )
    assert missing is not None and missing.unknown == ("libfoo.so.3",)
    assert missing.command("debian") == ""
    assert "libfoo.so.3" in missing.message() and "apt-file search" in missing.message()


def test_nothing_missing_means_no_message() -> None:
    assert _missing(UBUNTU, set()) is None


@pytest.mark.parametrize(
    ("environ", "system"),
    [
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "Linux"),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "Linux"),
        ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "Linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "Linux"),
        ({"DISPLAY": ":0"}, "Darwin"),
        ({}, "Windows"),
        ({"DISPLAY": ":0", "PHOTOATLAS_NO_LIBRARY_CHECK": "1"}, "Linux"),
    ],
)
def test_platforms_other_than_x11_are_not_checked(environ: dict[str, str], system: str) -> None:
    assert _missing(UBUNTU, FRESH, environ=environ, system=system) is None


def test_which_platform_qt_will_use() -> None:
    assert window_platform({}, "Linux") == "xcb"  # no display at all: Qt still tries X11 first
    assert window_platform({"DISPLAY": ":1"}, "Linux") == "xcb"
    assert window_platform({"QT_QPA_PLATFORM": "xcb:nomitshm", "XDG_SESSION_TYPE": "wayland"}, "Linux") == "xcb"
    assert window_platform({"QT_QPA_PLATFORM": "wayland;xcb"}, "Linux") == "wayland"
    assert window_platform({"XDG_SESSION_TYPE": "x11", "WAYLAND_DISPLAY": "w"}, "Linux") == "xcb"
    assert window_platform({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, "Linux") == "xcb"  # XWayland, unknown session
    assert window_platform({}, "Darwin") is None


def test_distribution_family_from_os_release() -> None:
    assert distribution_family(UBUNTU) == "debian"
    assert distribution_family('ID="debian"\n') == "debian"
    assert distribution_family('ID=pop\nID_LIKE="ubuntu debian"\n') == "debian"
    assert distribution_family(ROCKY) == "fedora"
    assert distribution_family(MANJARO) == "arch"
    assert distribution_family(SUSE) is None
    assert distribution_family("garbage without equals\n") is None


def test_every_library_has_three_packages() -> None:
    for library, packages in PACKAGES.items():
        assert library.startswith("lib") and ".so." in library
        assert len(packages) == 3 and all(p and " " not in p for p in packages), library


def test_ldd_output_is_parsed() -> None:
    text = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)\n"
        "\tlibxcb-icccm.so.4 => not found\n"
        "\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f)\n"
        "\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n"
    )
    found, not_found = parse_ldd(text)
    assert found == {"libQt6XcbQpa.so.6", "libGL.so.1"}
    assert not_found == {"libxcb-icccm.so.4"}


def _fake_ldd(folder: Path, not_found: list[str]) -> Path:
    """An `ldd` that finds every library of the table except `not_found`, whatever file it is asked about."""
    lines = [f"\t{lib} => not found" for lib in not_found]
    lines += [f"\t{lib} => /usr/lib/{lib} (0x1)" for lib in XCB_LIBRARIES if lib not in not_found]
    lines.append("\tlibQt6Gui.so.6 => not found")  # Qt's own libraries are never system packages
    ldd = folder / "ldd"
    ldd.write_text("#!/bin/sh\ncat <<'EOF'\n" + "\n".join(lines) + "\nEOF\n")
    ldd.chmod(0o755)
    return ldd


@pytest.mark.skipif(sys.platform != "linux", reason="ldd and Qt's X11 plugin are Linux's")
def test_probe_trusts_ldd_and_ignores_qts_own_libraries(tmp_path: Path) -> None:
    ldd = _fake_ldd(tmp_path, ["libxcb-icccm.so.4", "libfoo.so.9"])
    probe = SystemLibraryProbe([Path("/any/libqxcb.so")], ldd=str(ldd))
    assert not probe("libxcb-icccm.so.4") and probe("libxcb-cursor.so.0")
    assert probe.system_not_found == ["libfoo.so.9", "libxcb-icccm.so.4"]
    # Without an answer from ldd, the dynamic loader decides.
    bare = SystemLibraryProbe([], ldd=str(ldd))
    assert bare("libc.so.6") and not bare("libphotoatlas-nonexistent.so.1")


@pytest.mark.skipif(sys.platform != "linux", reason="Qt's X11 plugin is Linux's")
def test_pyside6_plugin_is_found_without_importing_qt() -> None:
    names = {path.name for path in platform_check.qt_binaries()}
    assert "libqxcb.so" in names and any(name.startswith("QtWidgets") for name in names)


def test_launcher_prints_the_packages_and_exits_1_instead_of_starting_qt(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setattr(platform_check.platform, "system", lambda: "Linux")
    monkeypatch.setattr(platform_check, "read_os_release", lambda: FEDORA)
    probe = SystemLibraryProbe([])
    probe.found = set(XCB_LIBRARIES) - {"libxcb-icccm.so.4"}
    probe.not_found = {"libxcb-icccm.so.4"}
    monkeypatch.setattr(platform_check, "library_probe", lambda: probe)
    for key in ("QT_QPA_PLATFORM", "XDG_SESSION_TYPE", "WAYLAND_DISPLAY", "PHOTOATLAS_NO_LIBRARY_CHECK"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    started = []
    import desktop_app.main

    monkeypatch.setattr(desktop_app.main, "run_app", lambda *args, **kwargs: started.append(args) or 0)

    assert launcher.main(["--library", str(tmp_path / "lib")]) == 1
    assert started == []
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4" in err and "sudo dnf install xcb-util-wm" in err


def test_launcher_starts_the_window_when_nothing_is_missing(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(platform_check, "check_window_libraries", lambda *args, **kwargs: None)
    started = []
    import desktop_app.main

    monkeypatch.setattr(desktop_app.main, "run_app", lambda library: started.append(library) or 0)
    assert launcher.main(["--library", str(tmp_path / "lib")]) == 0
    assert len(started) == 1


@pytest.mark.skipif(sys.platform != "linux", reason="ldd and Qt's X11 plugin are Linux's")
def test_photoatlas_with_a_missing_library_exits_before_loading_qt(tmp_path: Path) -> None:
    """The real command, with an `ldd` on PATH that reports libxcb-icccm.so.4 missing."""
    _fake_ldd(tmp_path, ["libxcb-icccm.so.4"])
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "XDG_SESSION_TYPE", "WAYLAND_DISPLAY")}
    env.update(PATH=f"{tmp_path}{os.pathsep}{env.get('PATH', '')}", DISPLAY=":99")
    code = (
        "import sys; from desktop_app.launcher import main; "
        f"code = main(['--library', {str(tmp_path / 'lib')!r}]); "
        "print('PySide6' in sys.modules, 'desktop_app.main' in sys.modules); sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stdout.split() == ["False", "False"]
    missing = MissingLibraries(("libxcb-icccm.so.4",), distribution_family(platform_check.read_os_release()))
    assert done.stderr.strip() == missing.message()
    expected = {"debian": ["libxcb-icccm4"], "fedora": ["xcb-util-wm"], "arch": ["xcb-util-wm"]}.get(
        missing.family, ["libxcb-icccm4", "xcb-util-wm"]
    )
    assert all(package in done.stderr for package in expected)


def test_a_loader_error_names_its_library_and_package() -> None:
    error = "libGL.so.1: cannot open shared object file: No such file or directory"
    missing = platform_check.from_load_error(error, UBUNTU)
    assert missing is not None and missing.libraries == ("libGL.so.1",)
    assert "sudo apt-get install libgl1" in missing.message()
    assert platform_check.from_load_error("No module named 'PySide6'", UBUNTU) is None


def test_launcher_turns_a_library_error_from_pyside6_into_the_packages(monkeypatch, capsys, tmp_path) -> None:
    """When the check could not see a library (no ldd, odd layout) and importing the window fails on it."""
    monkeypatch.setattr(platform_check, "check_window_libraries", lambda *args, **kwargs: None)
    monkeypatch.setattr(platform_check, "no_display_message", lambda *args: None)
    monkeypatch.setattr(platform_check, "read_os_release", lambda: ARCH)

    def failing_import(name, *args, **kwargs):
        if name == "desktop_app.main":
            raise ImportError("libEGL.so.1: cannot open shared object file: No such file or directory")
        return real_import(name, *args, **kwargs)

    import builtins

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", failing_import)
    assert launcher.main(["--library", str(tmp_path / "lib")]) == 1
    assert "sudo pacman -S --needed libglvnd" in capsys.readouterr().err


def test_no_display_is_said_in_words() -> None:
    assert platform_check.no_display_message({}, "Linux") is not None
    assert platform_check.no_display_message({"DISPLAY": ":0"}, "Linux") is None
    assert platform_check.no_display_message({"WAYLAND_DISPLAY": "wayland-0"}, "Linux") is None
    assert platform_check.no_display_message({"QT_QPA_PLATFORM": "offscreen"}, "Linux") is None
    assert platform_check.no_display_message({}, "Darwin") is None
