"""Shared helpers: the repository's fixtures and the `qingshan` binary the
Python results are compared with (QINGSHAN_BIN, else the workspace's debug
build, built when missing)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FX = ROOT / "fixtures"


def fx(name: str) -> str:
    return str(FX / name)


@pytest.fixture(scope="session")
def qingshan_bin() -> str:
    given = os.environ.get("QINGSHAN_BIN")
    if given:
        return given
    subprocess.run(["cargo", "build", "-q", "-p", "qingshan-cli"], cwd=ROOT, check=True)
    return str(ROOT / "target" / "debug" / "qingshan")


@pytest.fixture
def cli(qingshan_bin, tmp_path):
    """Runs the command line with ARGS; returns (exit code, stdout bytes, stderr text)."""

    def run(*args: str, cwd=None):
        p = subprocess.run([qingshan_bin, *args], capture_output=True, cwd=cwd or tmp_path)
        return p.returncode, p.stdout, p.stderr.decode()

    return run
