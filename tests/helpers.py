"""Helpers for the tests: run the CLI as a user would, read NDJSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``python -m asyncses ARGS`` as a user would; capture stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "asyncses", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
        **kwargs,
    )


def read_ndjson(path: Path | str) -> list[dict[str, Any]]:
    """Every record of an NDJSON file (every line must parse)."""
    with open(path, "rb") as stream:
        return [orjson.loads(line) for line in stream if line.strip()]


def parse_ndjson(text: str) -> list[dict[str, Any]]:
    """Every record of NDJSON text."""
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]
