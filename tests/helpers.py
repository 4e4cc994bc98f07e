"""Helpers for the tests: run the CLI as a user would, read NDJSON reports."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

import orjson

from asyncses import ProblemRecord

T = TypeVar("T")

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent
#: Record types of the lines that describe a run rather than an item (skipped by readers).
META_TYPES = ("run", "run_end")
DAILY_REPORT = ROOT / "scripts" / "daily-report"


@dataclass
class Result:
    """What a command run in this process gave: its exit code, stdout and stderr."""

    code: int
    out: str
    err: str


#: The ``cli`` fixture: ``cli("identities", "--region", ...)`` runs ``asyncses ARGS``.
Cli = Callable[..., Result]


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


def read_lines(path: Path | str) -> list[dict[str, Any]]:
    """Every line of an NDJSON file, run header and end lines included (each must parse)."""
    with open(path, "rb") as stream:
        return [orjson.loads(line) for line in stream if line.strip()]


def read_ndjson(path: Path | str) -> list[dict[str, Any]]:
    """The records of an NDJSON report (every line must parse; run lines left out)."""
    return [r for r in read_lines(path) if r.get("type") not in META_TYPES]


def parse_ndjson(text: str) -> list[dict[str, Any]]:
    """The records of NDJSON text (run lines left out)."""
    lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]
    return [r for r in lines if r.get("type") not in META_TYPES]


def no_problems(records: Iterable[T | ProblemRecord]) -> list[T]:
    """The records of a stream, which must hold no ``account`` or ``listing`` record (no
    account, region or listing that could not be audited)."""
    found: list[T] = []
    for record in records:
        kind = cast(dict[str, Any], record)["type"]
        assert kind not in ("account", "listing"), record
        found.append(cast(T, record))
    return found


def load_script(path: Path, name: str) -> ModuleType:
    """A script without a ``.py`` suffix (``scripts/daily-report``) loaded as module ``name``,
    so that its ``main`` runs in this process."""
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
