"""Importing the engine makes torch's idle OpenMP threads sleep (a spinning pool is several times slower on a
busy machine), unless the user chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys


def _policy_after_import(env: dict[str, str]) -> str:
    code = "import engine, os; print(os.environ.get('OMP_WAIT_POLICY'))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_importing_the_engine_sets_a_passive_wait_policy() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy_after_import(env).strip() == "PASSIVE"


def test_a_policy_the_user_set_is_kept() -> None:
    assert _policy_after_import({**os.environ, "OMP_WAIT_POLICY": "ACTIVE"}).strip() == "ACTIVE"
