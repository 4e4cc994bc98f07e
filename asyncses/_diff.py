"""Differences between two reports, item by item."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ._records import record_key

__all__ = ["diff_records", "render_diff_markdown"]

#: Fields that describe the run rather than the item; not compared.
_IGNORED = frozenset({"error"})


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in record.items():
        if not prefix and name in _IGNORED:
            continue
        path = f"{prefix}{name}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def diff_records(
    old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Change records: ``added``, ``removed`` and ``changed`` items between two reports.

    ``old`` is read into memory (one flattened record per item); ``new`` is streamed.
    """
    before = {record_key(record): _flatten(record) for record in old}
    for record in new:
        key = record_key(record)
        flat = _flatten(record)
        previous = before.pop(key, None)
        head = {"type": key[0], "region": key[2], "key": key[3]}
        if key[1] is not None:
            head["account"] = key[1]
        if previous is None:
            yield {"change": "added", **head}
            continue
        changes = {
            path: {"old": previous.get(path), "new": flat.get(path)}
            for path in sorted(previous.keys() | flat.keys())
            if previous.get(path) != flat.get(path)
        }
        if changes:
            yield {"change": "changed", **head, "changes": changes}
    for key in before:
        head = {"type": key[0], "region": key[2], "key": key[3]}
        if key[1] is not None:
            head["account"] = key[1]
        yield {"change": "removed", **head}


def render_diff_markdown(changes: Iterable[Mapping[str, Any]], *, title: str = "Changes") -> str:
    """Change records as a Markdown section."""
    rows = list(changes)
    counts = {
        kind: sum(1 for c in rows if c["change"] == kind)
        for kind in ("added", "removed", "changed")
    }
    lines = [
        f"## {title}",
        "",
        f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed",
        "",
    ]
    if rows:
        lines += ["| change | type | region | item | details |", "|---|---|---|---|---|"]
        for change in rows:
            details = "; ".join(
                f"{path}: {_short(v['old'])} → {_short(v['new'])}"
                for path, v in (change.get("changes") or {}).items()
            )
            lines.append(
                f"| {change['change']} | {change['type']} | {change['region']} "
                f"| {change['key']} | {details} |"
            )
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = "—" if value is None else str(value)
    text = text.replace("|", "\\|")
    return text if len(text) <= 60 else text[:57] + "..."
