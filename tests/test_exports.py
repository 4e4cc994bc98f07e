"""The public face of ``asyncses``: ``__all__`` pinned, names that say they are asyncses's, no
moto on import, a Client with only its documented attributes, and a truthfully drawn error tree."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import types

import asyncses
from asyncses.engine import errors as errors_module

from .helpers import ROOT

EXPORTED = [
    "FINDINGS",
    "AccessError",
    "AlreadyExistsError",
    "AsyncsesError",
    "CallStats",
    "Change",
    "Client",
    "ClientClosedError",
    "ConfigurationSetRecord",
    "ContactListRecord",
    "ContactRecord",
    "CustomVerificationTemplateRecord",
    "DedicatedIpPoolRecord",
    "EmailIdentityRecord",
    "EmailTemplateRecord",
    "EndpointError",
    "ErrorInfo",
    "Finding",
    "ImportJobRecord",
    "ItemKey",
    "ListingErrorRecord",
    "NoCredentialsError",
    "NotFoundError",
    "NotServiceError",
    "OperationError",
    "OutcomeRecord",
    "PaginationError",
    "ProblemRecord",
    "RecordStream",
    "ReportError",
    "ReportWriteError",
    "Resume",
    "RetryPolicy",
    "RetryableError",
    "ServiceError",
    "SesAccountRecord",
    "Settings",
    "Summary",
    "SuppressedDestinationRecord",
    "ThrottledError",
    "UnitErrorRecord",
    "UnreachableError",
    "UsageError",
    "WriteResult",
    "__version__",
    "plan",
    "read_report",
    "record_key",
    "summarize",
    "write_ndjson",
]

#: The Client's public attributes: its record streams, its writes, its lifecycle and what it
#: knows once open.
CLIENT_ATTRIBUTES = {
    # record streams, one per resource
    "email_identities",
    "dedicated_ip_pools",
    "import_jobs",
    "account",
    "configuration_sets",
    "suppressions",
    "contact_lists",
    "templates",
    # writes
    "create_dedicated_ip_pool",
    "apply",
    # lifecycle and state
    "aclose",
    "regions",
    "accounts",
    "stats",
    "duplicates",
    "settings",
}

# One line of the drawn tree: tree drawing, then a class name.
TREE_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w*)\b")


def test_all_is_pinned() -> None:
    """``asyncses.__all__`` is exactly the agreed list, without duplicates."""
    assert asyncses.__all__ == EXPORTED


def test_star_import_gives_every_name() -> None:
    """``from asyncses import *`` binds every name of ``__all__``."""
    namespace: dict[str, object] = {}
    exec("from asyncses import *", namespace)
    assert [name for name in EXPORTED if name not in namespace] == []


def test_no_other_public_names() -> None:
    """Beyond ``__all__`` the package shows only its subpackages, no stray helpers."""
    extra = {
        name
        for name, value in vars(asyncses).items()
        if not name.startswith("_")
        and name not in EXPORTED
        and not isinstance(value, types.ModuleType)
    }
    assert extra == set()


def test_exported_classes_and_functions_say_asyncses() -> None:
    """Every exported class and function shows ``__module__ == "asyncses"``."""
    objects = [getattr(asyncses, name) for name in EXPORTED]
    shown = {
        obj.__name__: obj.__module__
        for obj in objects
        if isinstance(obj, type) or inspect.isfunction(obj)
    }
    assert len(shown) >= 30
    assert {name: module for name, module in shown.items() if module != "asyncses"} == {}
    assert repr(asyncses.Client) == "<class 'asyncses.Client'>"


def test_version_is_a_string() -> None:
    """``__version__`` is the version text of the package."""
    assert re.fullmatch(r"\d+\.\d+\.\d+", asyncses.__version__)


def _modules_after(statement: str) -> set[str]:
    """The modules loaded in a fresh interpreter after running ``statement``."""
    code = f"{statement}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return set(result.stdout.split())


def test_importing_asyncses_does_not_import_moto() -> None:
    """The library does not load the test endpoint's moto (nor asyncses.local) on import."""
    loaded = _modules_after("import asyncses")
    assert "asyncses.client" in loaded  # the check would see a module if it were there
    assert {m for m in loaded if m == "moto" or m.startswith("moto.")} == set()
    assert "asyncses.local" not in loaded


def test_importing_asyncses_local_does_not_import_moto() -> None:
    """The embedded endpoint loads moto only when it starts."""
    loaded = _modules_after("import asyncses.local")
    assert "asyncses.local._local" in loaded
    assert {m for m in loaded if m == "moto" or m.startswith("moto.")} == set()


def test_client_has_only_documented_public_attributes() -> None:
    """The Client class and an instance show exactly the documented public attributes."""
    on_class = {name for name in dir(asyncses.Client) if not name.startswith("_")}
    client = asyncses.Client(regions=["us-east-1"])
    on_instance = {name for name in dir(client) if not name.startswith("_")}
    assert on_instance == CLIENT_ATTRIBUTES
    assert on_class == CLIENT_ATTRIBUTES - {"settings", "duplicates"}


def test_client_methods_are_what_they_say() -> None:
    """aclose and create_dedicated_ip_pool are coroutines; regions/accounts/stats are read-only."""
    client = asyncses.Client
    assert inspect.iscoroutinefunction(client.aclose)
    assert inspect.iscoroutinefunction(client.create_dedicated_ip_pool)
    streams = ("email_identities", "dedicated_ip_pools", "import_jobs", "configuration_sets")
    for name in streams:
        assert not inspect.iscoroutinefunction(getattr(client, name)), name
    for name in ("regions", "accounts", "stats"):
        prop = inspect.getattr_static(client, name)
        assert isinstance(prop, property) and prop.fset is None, name


# -- the error tree ------------------------------------------------------------------------


def _error_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in ``asyncses.engine.errors``."""
    return {
        name: value
        for name, value in vars(errors_module).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }


def _drawn_tree() -> dict[str, str | None]:
    """The class tree drawn in the errors module's docstring, as {class: parent}."""
    doc = errors_module.__doc__
    assert doc is not None
    block = doc.split("::", 1)[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip():
            if parents:
                break
            continue
        match = TREE_LINE.match(line.removeprefix("    "))
        assert match is not None, f"unreadable tree line {line!r}"
        column = len(match["indent"])
        while stack and stack[-1][0] >= column:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((column, match["name"]))
    return parents


def test_every_error_is_exported_and_rooted() -> None:
    """Each error the engine defines is public under its name and an AsyncsesError."""
    defined = _error_classes()
    assert len(defined) == 16
    for name, cls in defined.items():
        assert getattr(asyncses, name) is cls
        assert issubclass(cls, asyncses.AsyncsesError)
    assert issubclass(asyncses.UnreachableError, asyncses.UsageError)


def test_docstring_tree_matches_the_classes() -> None:
    """The drawn tree names exactly the defined classes, each below its real base."""
    drawn = _drawn_tree()
    classes = _error_classes()
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        base = classes[name].__base__
        assert base is not None
        expected = "Exception" if parent is None else parent
        assert base.__name__ == expected, f"{name} is drawn below {parent}, derives from {base}"
