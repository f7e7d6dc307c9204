"""Before Qt starts on Linux: find the system libraries its X11 platform plugin needs, and say which packages.

Without one of them Qt aborts with "Could not load the Qt platform plugin "xcb"… xcb-cursor0 or libxcb-cursor0
is needed", whichever library is really missing. This module asks the dynamic linker (`ldd` on PySide6's
`libqxcb.so` and `QtWidgets`; `ctypes` where there is no `ldd`) which of them are absent and names the packages
to install on Debian/Ubuntu, Fedora and Arch. The check itself is a pure function over a "library present?"
probe and the text of /etc/os-release (`find_missing_libraries`), so it is tested without touching the system.

It uses the standard library only: `installer/install.sh` runs it (`python -m desktop_app.platform_check`), and
the launcher runs it before anything imports Qt. `PHOTOATLAS_NO_LIBRARY_CHECK=1` turns it off.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

FAMILIES = ("debian", "fedora", "arch")
FAMILY_NAMES = {"debian": "Debian/Ubuntu", "fedora": "Fedora", "arch": "Arch"}
INSTALL_COMMANDS = {
    "debian": "sudo apt-get install",
    "fedora": "sudo dnf install",
    "arch": "sudo pacman -S --needed",
}

# Every system library that PySide6's X11 plugin, Qt Gui/Widgets/DBus and the QtWidgets module link directly
# (`readelf -d`, PySide6 6.11; libc and libm left out), with the package that holds it:
# (Debian/Ubuntu, Fedora, Arch). Order: the X11 helpers a fresh system lacks first, as the message lists them.
PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libEGL.so.1": ("libegl1", "mesa-libEGL", "libglvnd"),
    "libGL.so.1": ("libgl1", "mesa-libGL", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libz.so.1": ("zlib1g", "zlib", "zlib"),
    "libzstd.so.1": ("libzstd1", "libzstd", "zstd"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++", "gcc-libs"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc", "gcc-libs"),
}
XCB_LIBRARIES = tuple(PACKAGES)

# Libraries that come inside the PySide6 wheel (or a frozen bundle), never from the system: a "not found" for one
# of these means an unusual layout, not a package to install.
_BUNDLED_PREFIXES = ("libQt6", "libpyside6", "libshiboken6", "libicu")


@dataclass(frozen=True)
class MissingLibraries:
    """System libraries Qt needs and cannot find, and the distribution family (None when not recognised)."""

    libraries: tuple[str, ...]
    family: str | None

    def packages(self, family: str) -> list[str]:
        """The packages that hold the missing libraries on `family`, each once, in the libraries' order."""
        column = FAMILIES.index(family)
        names = [PACKAGES[lib][column] for lib in self.libraries if lib in PACKAGES]
        return list(dict.fromkeys(names))

    def command(self, family: str) -> str:
        """The command that installs them on `family` ("" when none of them has a known package)."""
        packages = self.packages(family)
        return f"{INSTALL_COMMANDS[family]} {' '.join(packages)}" if packages else ""

    @property
    def unknown(self) -> tuple[str, ...]:
        """Missing libraries with no package in the table."""
        return tuple(lib for lib in self.libraries if lib not in PACKAGES)

    def message(self) -> str:
        """What to tell the user: one sentence, then the command(s) to run."""
        lines = [
            "PhotoAtlas's window cannot start: Qt needs system libraries for X11 that are not installed "
            f"({', '.join(self.libraries)})."
        ]
        families = [self.family] if self.family else list(FAMILIES)
        commands = [(f, self.command(f)) for f in families if self.command(f)]
        if len(commands) == 1:
            lines += ["Install them with:", "", f"    {commands[0][1]}", ""]
        elif commands:
            lines += ["Install them with the command for your distribution:", ""]
            lines += [f"    {FAMILY_NAMES[f] + ':':<15}{command}" for f, command in commands]
            lines.append("")
        if self.unknown:
            names = ", ".join(self.unknown)
            lines.append(
                f"Find the package that holds {names} with your package manager "
                f"(apt-file search, dnf provides, pacman -F) and install it."
            )
        lines.append("Then start PhotoAtlas again. The commands work without the window: photoatlas --help.")
        return "\n".join(lines)


def window_platform(environ: Mapping[str, str], system: str) -> str | None:
    """The Qt platform plugin the window will load ("xcb", "wayland", "offscreen", ...); None off Linux."""
    if system != "Linux":
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        # "xcb", "xcb:option=...", or a fallback list "wayland;xcb": the first one is tried first.
        return chosen.split(";")[0].split(":")[0].strip() or "xcb"
    session = environ.get("XDG_SESSION_TYPE", "").lower()
    if session == "wayland" or (not session and environ.get("WAYLAND_DISPLAY") and not environ.get("DISPLAY")):
        return "wayland"
    return "xcb"


def no_display_message(environ: Mapping[str, str], system: str) -> str | None:
    """What to say when the window would use X11 or Wayland but there is no display to show it on (an SSH
    session, a console): Qt would abort with "could not connect to display"."""
    if window_platform(environ, system) not in ("xcb", "wayland"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "PhotoAtlas's window needs a graphical session, and this one has no display (neither DISPLAY nor "
        "WAYLAND_DISPLAY is set). Start it from your desktop, or use the commands here: photoatlas --help."
    )


def parse_os_release(text: str) -> dict[str, str]:
    """The KEY=value pairs of an os-release file (values unquoted)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            try:
                parts = shlex.split(value)
            except ValueError:
                parts = [value.strip("\"'")]
            fields[key] = " ".join(parts)
    return fields


def distribution_family(os_release: str) -> str | None:
    """ "debian", "fedora" or "arch" from os-release's ID and ID_LIKE (Ubuntu, Mint, Rocky, Manjaro...); else None."""
    fields = parse_os_release(os_release)
    ids = [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]
    aliases = {
        "debian": "debian",
        "ubuntu": "debian",
        "fedora": "fedora",
        "rhel": "fedora",
        "centos": "fedora",
        "arch": "arch",
        "archlinux": "arch",
    }
    for name in ids:
        if name.lower() in aliases:
            return aliases[name.lower()]
    return None


def find_missing_libraries(
    *,
    environ: Mapping[str, str],
    system: str,
    os_release: str,
    is_present: Callable[[str], bool],
    required: Iterable[str] = XCB_LIBRARIES,
) -> MissingLibraries | None:
    """The libraries Qt's X11 plugin needs that `is_present` says are absent; None when nothing is missing.

    Only when the window will use the xcb plugin (Linux, X11): offscreen, Wayland and other platforms need
    other libraries, and Qt falls back from Wayland to X11 on its own.
    """
    if environ.get("PHOTOATLAS_NO_LIBRARY_CHECK") or window_platform(environ, system) != "xcb":
        return None
    missing = tuple(dict.fromkeys(lib for lib in required if not is_present(lib)))
    if not missing:
        return None
    return MissingLibraries(missing, distribution_family(os_release))


def from_load_error(error: str, os_release: str) -> MissingLibraries | None:
    """The library named by a loader error ("libGL.so.1: cannot open shared object file: ..."), as raised by
    importing PySide6 when the check above could not see it; None for any other error."""
    name, sep, reason = error.partition(": ")
    name = name.rsplit("/", 1)[-1].strip()
    if not sep or "cannot open shared object file" not in reason or ".so" not in name:
        return None
    return MissingLibraries((name,), distribution_family(os_release))


def parse_ldd(text: str) -> tuple[set[str], set[str]]:
    """The libraries `ldd` resolved, and those it reports "not found"."""
    found: set[str] = set()
    not_found: set[str] = set()
    for line in text.splitlines():
        name, sep, where = line.strip().partition(" => ")
        if not sep:
            continue
        (not_found if where.strip().startswith("not found") else found).add(name.strip())
    return found, not_found


def qt_binaries() -> list[Path]:
    """PySide6's X11 platform plugin and QtWidgets module, found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    package = Path(next(iter(spec.submodule_search_locations)))
    candidates = [package / "Qt" / "plugins" / "platforms" / "libqxcb.so", *package.glob("QtWidgets*.so")]
    return [path for path in candidates if path.is_file()]


def _can_load(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError as error:
        # A library that is there but lacks one of its own dependencies names that dependency instead; the
        # dependency is in the list as well and is reported under its own name.
        return not str(error).startswith(f"{soname}:")
    return True


class SystemLibraryProbe:
    """Says whether a library can be loaded: `ldd`'s answer for Qt's binaries first, then the dynamic loader."""

    def __init__(self, binaries: Sequence[Path], ldd: str | None = None) -> None:
        self.found: set[str] = set()
        self.not_found: set[str] = set()
        ldd = ldd or shutil.which("ldd")
        for binary in binaries if ldd else ():
            try:
                done = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=20)
            except (OSError, subprocess.SubprocessError):
                continue
            found, not_found = parse_ldd(done.stdout)
            self.found |= found
            self.not_found |= not_found

    @property
    def system_not_found(self) -> list[str]:
        """What `ldd` could not find, less Qt's own libraries (a frozen bundle may lay those out differently)."""
        return sorted(lib for lib in self.not_found if not lib.startswith(_BUNDLED_PREFIXES))

    def __call__(self, soname: str) -> bool:
        if soname in self.not_found:
            return False
        return soname in self.found or _can_load(soname)


def read_os_release() -> str:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            return Path(path).read_text("utf-8", errors="replace")
        except OSError:
            continue
    return ""


def library_probe() -> SystemLibraryProbe:
    return SystemLibraryProbe(qt_binaries())


def check_window_libraries(
    environ: Mapping[str, str] | None = None, system: str | None = None
) -> MissingLibraries | None:
    """The real check: this process's environment, this machine's libraries and distribution."""
    environ = os.environ if environ is None else environ
    system = platform.system() if system is None else system
    if environ.get("PHOTOATLAS_NO_LIBRARY_CHECK") or window_platform(environ, system) != "xcb":
        return None  # skip running ldd at all
    probe = library_probe()
    required = [*XCB_LIBRARIES, *(lib for lib in probe.system_not_found if lib not in PACKAGES)]
    return find_missing_libraries(
        environ=environ, system=system, os_release=read_os_release(), is_present=probe, required=required
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m desktop_app.platform_check`: print what is missing; exit status 1 when something is."""
    parser = argparse.ArgumentParser(
        prog="python -m desktop_app.platform_check",
        description="Check the system libraries PhotoAtlas's window needs on Linux (X11).",
    )
    parser.add_argument(
        "--any-session",
        action="store_true",
        help="check for X11 whatever this session is (the installer: the window may start elsewhere later)",
    )
    parser.add_argument(
        "--command",
        action="store_true",
        help="print only the install command for this distribution (nothing when it is not recognised)",
    )
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    if args.any_session:
        for key in ("QT_QPA_PLATFORM", "XDG_SESSION_TYPE", "WAYLAND_DISPLAY"):
            environ.pop(key, None)
    missing = check_window_libraries(environ)
    if missing is None:
        return 0
    if args.command:
        if missing.family is not None and missing.command(missing.family):
            print(missing.command(missing.family))
    else:
        print(missing.message())
    return 1


if __name__ == "__main__":
    sys.exit(main())
