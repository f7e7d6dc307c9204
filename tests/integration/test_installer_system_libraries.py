"""install.sh --check-system: names the missing X11 libraries' packages and runs the command only after a yes.

A fake `ldd` on PATH reports libxcb-icccm.so.4 missing until a fake package manager "installs" it (by touching a
file); fake `sudo`, `apt-get`, `dnf` and `pacman` come first on PATH, so nothing is ever installed for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.platform_check import XCB_LIBRARIES, MissingLibraries, distribution_family, read_os_release
from tests.integration.test_installer import INSTALL, _home_env

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Qt's X11 libraries are a Linux matter")

MISSING = "libxcb-icccm.so.4"


def _fakes(folder: Path, missing: str | None) -> Path:
    fakes = folder / "fakes"
    fakes.mkdir()
    installed = folder / "installed"
    found = "\n".join(f"\t{lib} => /usr/lib/{lib} (0x1)" for lib in XCB_LIBRARIES if lib != missing)
    absent = f'[ -e "{installed}" ] || printf "\\t{missing} => not found\\n"' if missing else ""
    (fakes / "ldd").write_text(f"#!/bin/sh\ncat <<'EOF'\n{found}\nEOF\n{absent}\n")
    (fakes / "sudo").write_text('#!/bin/sh\necho "sudo $*" >>"$FAKE_LOG"\nexec "$@"\n')
    for tool in ("apt-get", "dnf", "pacman"):
        (fakes / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >>"$FAKE_LOG"\ntouch "{installed}"\n')
    for fake in fakes.iterdir():
        fake.chmod(0o755)
    return fakes


def _check(tmp_path: Path, missing: str | None, answer: bytes | None = None) -> tuple[int, str, str, list[str]]:
    """Runs `install.sh --check-system`; with `answer`, on a terminal that types it."""
    fakes = _fakes(tmp_path, missing)
    log = tmp_path / "commands.log"
    env = _home_env(tmp_path, PATH=f"{fakes}{os.pathsep}{os.environ['PATH']}", FAKE_LOG=str(log), DISPLAY=":99")
    args = ["bash", str(INSTALL), "--check-system", "--prefix", str(tmp_path / "none"), "--python", sys.executable]
    if answer is None:
        done = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        import pty

        terminal, tty = pty.openpty()
        try:
            proc = subprocess.Popen(args, env=env, stdin=tty, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            os.close(tty)
            os.write(terminal, answer)
            out, err = proc.communicate(timeout=60)
            code = proc.returncode
        finally:
            os.close(terminal)
    commands = log.read_text().splitlines() if log.exists() else []
    return code, out, err, commands


def _family_command() -> tuple[str | None, str]:
    missing = MissingLibraries((MISSING,), distribution_family(read_os_release()))
    return missing.family, missing.command(missing.family) if missing.family else ""


def test_nothing_missing_says_nothing(tmp_path: Path) -> None:
    code, out, err, commands = _check(tmp_path, None)
    assert (code, out, err, commands) == (0, "", "", [])


def test_without_a_terminal_it_prints_the_command_and_runs_nothing(tmp_path: Path) -> None:
    code, out, _err, commands = _check(tmp_path, MISSING)
    assert code == 1 and commands == []
    assert MISSING in out and ("libxcb-icccm4" in out or "xcb-util-wm" in out)
    assert "Run that command in a terminal" in out


def test_on_a_terminal_it_asks_and_no_is_the_default(tmp_path: Path) -> None:
    if _family_command()[0] is None:
        pytest.skip("this machine's distribution is none of Debian/Ubuntu, Fedora, Arch: nothing to offer")
    code, out, _err, commands = _check(tmp_path, MISSING, answer=b"\n")
    assert code == 1 and commands == []
    assert "now? [y/N]" in out and "Not installed" in out


def test_on_a_terminal_yes_runs_the_command_and_checks_again(tmp_path: Path) -> None:
    family, command = _family_command()
    if family is None:
        pytest.skip("this machine's distribution is none of Debian/Ubuntu, Fedora, Arch: nothing to offer")
    code, out, err, commands = _check(tmp_path, MISSING, answer=b"y\n")
    assert code == 0, out + err
    tool = command.removeprefix("sudo ")
    expected = [tool] if os.geteuid() == 0 else [f"sudo {tool}", tool]  # root needs no sudo
    assert commands == expected
    assert "The system libraries are installed" in out
