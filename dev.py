#!/usr/bin/env python3
"""Bootstrap for a fresh machine that has only Python 3.11.

``python3 dev.py demo``  creates ``.venv`` (once), installs the project, runs the main job.
``python3 dev.py test``  same set-up, then ruff, mypy and the whole pytest suite.
``python3 dev.py run ARGS``  runs the ``mianshen`` CLI inside the virtual environment.

The install is redone only when ``pyproject.toml`` changes (a stamp file remembers its hash).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".mianshen-install-stamp"


def _run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def ensure_venv() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Mianshen needs Python 3.11, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        _run(sys.executable, "-m", "venv", VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in {"demo", "test", "run"}:
        print(__doc__)
        return 0 if command == "help" else 2
    ensure_venv()
    if command == "demo":
        return subprocess.call([str(BIN / "mianshen"), "demo", *argv[1:]], cwd=ROOT)
    if command == "run":
        return subprocess.call([str(BIN / "mianshen"), *argv[1:]], cwd=ROOT)
    for check in (["ruff", "check", "."], ["mypy", "."]):
        if subprocess.call([str(BIN / check[0]), *check[1:]], cwd=ROOT) != 0:
            return 1
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
