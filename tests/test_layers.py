"""The package's layers, read from the source with ``ast``: imports flow one way only.

engine (0) <- ses (1) <- reports (2) <- client, settings (3) <- cli (4). ``_version`` is a leaf
every layer may read, ``__init__`` (the public face) may import anything, and ``local`` (the
embedded endpoint) stands apart: it imports nothing of asyncses beyond itself, and no library
layer imports it (only the command line's demo may).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import ROOT

PACKAGE = "asyncses"
RANKS = {
    "engine": 0,
    "ses": 1,
    "reports": 2,
    # Bulk changes: plans built from reports (above them), applied by the client or CLI.
    "changes": 2.5,
    "client": 3,
    "settings": 3,
    "cli": 4,
}
LEAVES = {"_version"}
#: Third-party packages each layer may import (the standard library is always allowed).
THIRD_PARTY = {
    "engine": {"anyio", "tenacity", "orjson", "structlog"},
    "ses": {"anyio", "aioboto3", "aiobotocore", "botocore", "aiohttp", "orjson"},
}
#: The only module of the SES adapter the reports may use: operation names and enums.
REPORTS_MAY_USE_FROM_SES = {"asyncses.ses", "asyncses.ses.operations"}


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to an absolute module name."""

    module: str  # the importing module, dotted
    target: str  # the imported module (or module.name for ``from X import name``), dotted
    line: int


def module_name(path: Path, root: Path) -> str:
    """``asyncses/engine/pool.py`` -> ``asyncses.engine.pool``; packages drop ``__init__``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path) -> Iterator[Import]:
    """Every import in ``path`` (anywhere in it, functions included), made absolute."""
    name = module_name(path, root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            for alias in node.names:
                yield Import(name, f"{prefix}.{alias.name}", node.lineno)


def layer_of(module: str) -> str | None:
    """The layer of an ``asyncses`` module (``None`` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _own_module(target: str, root: Path) -> str:
    """The asyncses module an import names: ``from .x import y`` may name a module or a name."""
    parts = target.split(".")
    while parts:
        candidate = root.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return target


def violations(root: Path) -> list[str]:
    """Every import in the package under ``root`` that breaks the layering rules."""
    found: list[str] = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        for imp in imports(path, root):
            where = f"{path.relative_to(root)}:{imp.line}"
            problem = _check(imp, root)
            if problem:
                found.append(f"{where}: {imp.module} imports {imp.target}: {problem}")
    return found


def _check(imp: Import, root: Path) -> str | None:
    source = layer_of(imp.module)
    top = imp.target.split(".")[0]
    if imp.target == PACKAGE or imp.target.startswith(PACKAGE + "."):
        target_module = _own_module(imp.target, root)
        target = layer_of(target_module)
    else:
        target_module, target = "", None
    if source is None or source == "__main__":
        return None  # the public face and ``python -m asyncses`` may import anything
    if source == "local":
        if target_module and target != "local":
            return "asyncses.local must stand apart from the library"
        return None
    if target_module:
        if target is None:
            return "only __init__ may import the package's public face"
        if target in LEAVES:
            return None
        if target == "local":
            return None if source == "cli" else "the library must not import asyncses.local"
        if source in LEAVES:
            return "a leaf imports nothing of asyncses"
        if target not in RANKS or source not in RANKS:
            return f"unknown layer {target if target not in RANKS else source!r}"
        if RANKS[target] > RANKS[source]:
            return f"upward import ({source} {RANKS[source]} -> {target} {RANKS[target]})"
        if (
            source == "reports"
            and target == "ses"
            and target_module not in REPORTS_MAY_USE_FROM_SES
        ):
            return "reports may use only the SES operation names"
        return None
    allowed = THIRD_PARTY.get(source)
    if allowed is not None and top not in sys.stdlib_module_names and top not in allowed:
        return f"{source} may not import {top}"
    return None


def test_no_import_breaks_the_layers() -> None:
    """No module of asyncses imports from a layer above its own."""
    assert violations(ROOT) == []


def test_the_checker_reads_the_real_package() -> None:
    """The checker sees the package's imports (a checker that sees nothing passes vacuously)."""
    seen = [imp for path in (ROOT / PACKAGE).rglob("*.py") for imp in imports(path, ROOT)]
    targets = {(imp.module, _own_module(imp.target, ROOT)) for imp in seen}
    assert ("asyncses.ses.unit", "asyncses.engine.retry") in targets
    assert ("asyncses.client", "asyncses.reports.runner") in targets
    assert ("asyncses.cli.demo", "asyncses.local") in targets  # an import inside a function
    assert {layer_of(module) for module, _ in targets} >= set(RANKS)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [tmp_path / PACKAGE, *(tmp_path / PACKAGE).rglob("*")]:
        if folder.is_dir():
            (folder / "__init__.py").touch()
    return tmp_path


@pytest.mark.parametrize(
    ("files", "culprit"),
    [
        ({"engine/pool.py": "from ..reports.runner import Resume\n"}, "engine/pool.py:1"),
        ({"ses/unit.py": "from asyncses.client import Client\n"}, "ses/unit.py:1"),
        (
            {"reports/files.py": "def f():\n    from ..cli import exits\n"},
            "reports/files.py:2",
        ),
        ({"settings.py": "from .cli.parser import build_parser\n"}, "settings.py:1"),
        ({"engine/retry.py": "import botocore\n"}, "engine/retry.py:1"),
        ({"reports/pools.py": "from ..ses.unit import Unit\n"}, "reports/pools.py:1"),
        ({"local/_seed.py": "from ..engine.errors import UsageError\n"}, "local/_seed.py:1"),
        ({"client.py": "from .local import LocalSES\n"}, "client.py:1"),
        ({"_version.py": "from .engine import log\n"}, "_version.py:1"),
    ],
    ids=[
        "engine-to-reports",
        "ses-to-client",
        "reports-to-cli-in-a-function",
        "settings-to-cli",
        "engine-to-botocore",
        "reports-to-ses-unit",
        "local-to-engine",
        "client-to-local",
        "leaf-to-engine",
    ],
)
def test_checker_catches_made_up_violations(
    tmp_path: Path, files: dict[str, str], culprit: str
) -> None:
    """A made-up upward (or sideways) import is reported, naming file and line."""
    found = violations(_package(tmp_path, files))
    assert len(found) == 1, found
    assert found[0].startswith(f"{PACKAGE}/{culprit}:"), found


def test_checker_allows_downward_imports(tmp_path: Path) -> None:
    """Downward imports, the leaf and the public face pass the checker."""
    files = {
        "engine/errors.py": "import anyio\n",
        "engine/retry.py": "from .errors import UsageError\nimport tenacity\n",
        "ses/unit.py": "from ..engine.retry import call\nfrom .. import _version\n",
        "reports/pools.py": "from ..ses import operations as ops\nfrom ..engine import pool\n",
        "client.py": "from .reports.pools import x\nfrom .settings import Settings\n",
        "settings.py": "from .ses import operations\n",
        "cli/demo.py": "def f():\n    from ..local import LocalSES\n",
        "cli/main.py": "from ..client import Client\nfrom .._version import __version__\n",
        "__init__.py": "from .cli.main import x\n",
        "_version.py": "__version__ = '1'\n",
        "local/_seed.py": "from ._state import X\nimport moto\n",
    }
    assert violations(_package(tmp_path, files)) == []


# -- the engine names no SES operation -----------------------------------------------------

OPERATION_NAME = re.compile(r"(?:List|Get|Put|Create|Delete|Send|Update|Tag|Untag)[A-Z][A-Za-z]+")
SES_MODULE = re.compile(r"(^|\.)(ses|sesv2|aioboto3|aiobotocore|botocore)(\.|$)")


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String constants that are not docstrings."""
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def ses_names(path: Path) -> list[str]:
    """SES imports and SES operation names in the code (not the docstrings) of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            names = [module, *(alias.name for alias in node.names)]
            if any(SES_MODULE.search(name.lower()) for name in names):
                found.append(f"{path.name}:{node.lineno}: imports {names}")
    for line, text in _strings(tree):
        if OPERATION_NAME.search(text) or "Email" in text or "SES" in text or "sesv2" in text:
            found.append(f"{path.name}:{line}: names {text!r}")
    return found


def test_engine_names_no_ses_operation() -> None:
    """No engine module imports SES code or spells an SES operation in its code."""
    modules = sorted((ROOT / PACKAGE / "engine").glob("*.py"))
    assert len(modules) >= 7
    assert [problem for path in modules for problem in ses_names(path)] == []


@pytest.mark.parametrize(
    "source",
    [
        "from ..ses import operations\n",
        "OPERATION = 'GetEmailIdentity'\n",
        "def f():\n    return call('ListDedicatedIpPools')\n",
        "NAME = 'SES'\n",
    ],
    ids=["ses-import", "operation-constant", "operation-in-call", "service-name"],
)
def test_ses_name_checker_catches(tmp_path: Path, source: str) -> None:
    """The SES-name check reports imports and operation names, not docstrings."""
    path = tmp_path / "made_up.py"
    path.write_text('"""Talks about SES and GetEmailIdentity in prose only."""\n' + source)
    assert len(ses_names(path)) >= 1
    path.write_text('"""Talks about SES and GetEmailIdentity in prose only."""\nX = 1\n')
    assert ses_names(path) == []


# -- library code stays quiet --------------------------------------------------------------

#: Calls only a command line may make: output, signal handlers, logging configuration.
COMMAND_LINE_CALLS = {
    "print",
    "sys.stdout.write",
    "sys.stderr.write",
    "signal.signal",
    "structlog.configure",
}
#: The same, by the method's name whatever it is called on.
COMMAND_LINE_METHODS = {
    "add_signal_handler",
    "open_signal_receiver",
    "basicConfig",
    "dictConfig",
    "fileConfig",
    "setLevel",
}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def command_line_calls(path: Path) -> list[str]:
    """Calls in ``path`` that print, install signal handlers or configure logging."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in COMMAND_LINE_CALLS or name.rsplit(".", 1)[-1] in COMMAND_LINE_METHODS:
                found.append(f"{path.name}:{node.lineno}: {name}()")
    return found


def library_modules(root: Path) -> list[Path]:
    """Every module but the command lines (cli/, and ``__main__`` modules)."""
    package = root / PACKAGE
    return [
        path
        for path in sorted(package.rglob("*.py"))
        if "cli" not in path.relative_to(package).parts[:1] and path.name != "__main__.py"
    ]


def test_library_code_prints_nothing_and_configures_nothing() -> None:
    """Outside the command line nothing prints, installs signal handlers or configures logging."""
    modules = library_modules(ROOT)
    assert len(modules) > 30
    assert [call for path in modules for call in command_line_calls(path)] == []


@pytest.mark.parametrize(
    "source",
    [
        "print('hello')\n",
        "import sys\nsys.stderr.write('x')\n",
        "import signal\nsignal.signal(signal.SIGTERM, None)\n",
        "import logging\nlogging.basicConfig()\n",
        "import logging\nlogging.getLogger('x').setLevel(10)\n",
        "import anyio\nanyio.open_signal_receiver(2)\n",
    ],
    ids=["print", "stderr", "signal", "basic-config", "set-level", "signal-receiver"],
)
def test_quiet_library_checker_catches(tmp_path: Path, source: str) -> None:
    """The check finds each kind of call a library must not make."""
    path = tmp_path / "made_up.py"
    path.write_text(source)
    assert len(command_line_calls(path)) == 1
