"""The public face of ``asyncses``: ``__all__`` is exact, and the error tree is drawn truthfully."""

from __future__ import annotations

import inspect
import re
import types

import asyncses
from asyncses import _exceptions

# Dunder names that belong to the public API although they start with an underscore.
PUBLIC_DUNDERS = {"__version__"}

# One line of the drawn tree: tree drawing, then a class name, then its description.
TREE_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w*)\b")


def _public_namespace() -> set[str]:
    """Names a user sees in ``asyncses``: no private names, no submodules."""
    return {
        name
        for name, value in vars(asyncses).items()
        if (not name.startswith("_") or name in PUBLIC_DUNDERS)
        and not isinstance(value, types.ModuleType)
    }


def _error_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in ``asyncses._exceptions``."""
    return {
        name: value
        for name, value in vars(_exceptions).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == _exceptions.__name__
    }


def _drawn_tree() -> dict[str, str | None]:
    """The class tree in ``_exceptions``'s docstring, as {class name: parent name}."""
    doc = _exceptions.__doc__
    assert doc is not None
    block = doc.split("::", 1)[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []  # (column of the name, name) of the open ancestors
    for line in block.splitlines():
        if not line.strip():
            if parents:
                break  # the blank line after the tree ends it
            continue
        match = TREE_LINE.match(line.removeprefix("    "))  # the literal block's indent
        assert match is not None, f"unreadable tree line {line!r}"
        column = len(match["indent"])
        while stack and stack[-1][0] >= column:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((column, match["name"]))
    return parents


def test_all_lists_every_public_name_exactly_once() -> None:
    """``asyncses.__all__`` is exactly the public namespace, without duplicates."""
    assert len(asyncses.__all__) == len(set(asyncses.__all__))
    assert set(asyncses.__all__) == _public_namespace()


def test_all_names_exist() -> None:
    """Every name in ``__all__`` resolves, so ``from asyncses import *`` works."""
    namespace: dict[str, object] = {}
    exec("from asyncses import *", namespace)
    missing = [name for name in asyncses.__all__ if name not in namespace]
    assert missing == []


def test_public_objects_say_they_are_asyncses() -> None:
    """Exported classes and functions live in asyncses, not in a dependency."""
    foreign = [
        name
        for name in asyncses.__all__
        if (inspect.isclass(obj := getattr(asyncses, name)) or inspect.isfunction(obj))
        and not obj.__module__.startswith("asyncses")
    ]
    assert foreign == []


def test_the_library_api_of_the_issue_is_exported() -> None:
    """The client, its record stream, the NDJSON helper and the root error are public."""
    for name in ("Client", "RecordStream", "write_ndjson", "AsyncsesError", "ClientClosedError"):
        assert name in asyncses.__all__
    client = asyncses.Client
    for method in (
        "email_identities",
        "dedicated_ip_pools",
        "import_jobs",
        "create_dedicated_ip_pool",
    ):
        assert callable(getattr(client, method))
    assert inspect.iscoroutinefunction(client.create_dedicated_ip_pool)
    assert inspect.iscoroutinefunction(asyncses.write_ndjson)
    parameters = inspect.signature(client).parameters
    for name in ("regions", "profile", "session", "endpoint_url", "concurrency", "rate"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY


def test_every_error_derives_from_the_root() -> None:
    """Each error class, defined or exported, is an AsyncsesError."""
    defined = _error_classes()
    exported = {
        name: obj
        for name in asyncses.__all__
        if inspect.isclass(obj := getattr(asyncses, name)) and issubclass(obj, BaseException)
    }
    assert len(defined) > 1
    for name, cls in {**defined, **exported}.items():
        assert issubclass(cls, asyncses.AsyncsesError), name


def test_every_error_class_is_exported() -> None:
    """A user can catch every error asyncses defines by its public name."""
    assert set(_error_classes()) <= set(asyncses.__all__)
    for name, cls in _error_classes().items():
        assert getattr(asyncses, name) is cls


def test_docstring_tree_names_every_error_class() -> None:
    """The tree drawn in ``_exceptions``'s docstring names exactly the defined classes."""
    assert set(_drawn_tree()) == set(_error_classes())


def test_docstring_tree_matches_the_class_hierarchy() -> None:
    """Each class in the drawn tree hangs below its real base class."""
    classes = _error_classes()
    for name, parent in _drawn_tree().items():
        base = classes[name].__base__
        assert base is not None
        if parent is None:
            assert name == "AsyncsesError"
            assert base is Exception
        else:
            assert base.__name__ == parent, f"{name} is drawn below {parent}, derives from {base}"
