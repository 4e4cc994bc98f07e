"""Differences between two reports, item by item."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..engine.errors import ReportError
from .records import ItemKey, record_key

__all__ = ["diff_records", "render_diff_markdown"]

#: Fields that describe the run rather than the item; not compared.
_IGNORED = frozenset({"error"})


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in record.items():
        if not prefix and name in _IGNORED:
            continue
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            # An empty mapping has no leaves: ``{}`` and a missing member compare equal.
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


class _Item:
    """One record, flattened to ``{dotted path: value}``, and whether its lookup failed."""

    __slots__ = ("failed", "fields")

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.fields = _flatten(record)
        self.failed = record.get("error") is not None

    def changes(self, new: _Item) -> dict[str, dict[str, Any]]:
        """``{path: {"old": ..., "new": ...}}`` for every path that differs.

        A record whose lookup failed holds only the list fields (and findings computed from
        them), so when either side failed only the paths both sides have are compared,
        findings excepted: a failed lookup is not a change of the item.
        """
        old_fields, new_fields = self.fields, new.fields
        if self.failed or new.failed:
            paths = (old_fields.keys() & new_fields.keys()) - {"findings"}
        else:
            paths = old_fields.keys() | new_fields.keys()
        return {
            path: {"old": old_fields.get(path), "new": new_fields.get(path)}
            for path in sorted(paths)
            if old_fields.get(path) != new_fields.get(path)
        }


def _key(record: Mapping[str, Any]) -> ItemKey:
    try:
        return record_key(record)
    except (KeyError, ValueError):
        raise ReportError(
            f"not an asyncses record (no known type and name): {str(dict(record))[:80]}"
        ) from None


def _head(key: ItemKey) -> dict[str, Any]:
    head: dict[str, Any] = {"type": key[0], "region": key[2], "key": key[3]}
    if key[1] is not None:
        head["account"] = key[1]
    return head


def diff_records(
    old: Iterable[Mapping[str, Any]],
    new: Iterable[Mapping[str, Any]],
    *,
    warnings: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Change records: ``added``, ``removed`` and ``changed`` items between two reports.

    Both sides are read into memory, one flattened record per item. Items are matched by
    :func:`~asyncses.record_key` (type, account, region, name or id); an item with more
    than one record on a side is compared at its last record, and ``warnings`` (if given)
    says so. Raises :class:`~asyncses.ReportError` for a record that is not an asyncses
    record.
    """
    before = _items(old, "old", warnings)
    after = _items(new, "new", warnings)
    for key, item in after.items():
        previous = before.pop(key, None)
        if previous is None:
            yield {"change": "added", **_head(key)}
            continue
        changes = previous.changes(item)
        if changes:
            yield {"change": "changed", **_head(key), "changes": changes}
    for key in before:
        yield {"change": "removed", **_head(key)}


def _items(
    records: Iterable[Mapping[str, Any]], side: str, warnings: list[str] | None
) -> dict[ItemKey, _Item]:
    items: dict[ItemKey, _Item] = {}
    repeated = 0
    for record in records:
        key = _key(record)
        if key in items:
            repeated += 1
            del items[key]  # the last record counts, in the order of its last appearance
        items[key] = _Item(record)
    if repeated and warnings is not None:
        warnings.append(
            f"the {side} report has {repeated} repeated records; the last one of each counts"
        )
    return items


def render_diff_markdown(
    changes: Iterable[Mapping[str, Any]], *, title: str = "Changes", limit: int | None = None
) -> str:
    """Change records as a Markdown section: the counts, then a table of at most ``limit`` rows.

    An ``account`` column appears when the changes carry accounts (several profiles).
    """
    counts = dict.fromkeys(("added", "removed", "changed"), 0)
    rows: list[Mapping[str, Any]] = []
    for change in changes:
        counts[change["change"]] = counts.get(change["change"], 0) + 1
        if limit is None or len(rows) < limit:
            rows.append(change)
    total = sum(counts.values())
    lines = [
        f"## {title}",
        "",
        f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed",
        "",
    ]
    if rows:
        accounts = any("account" in change for change in rows)
        head = ["change", "type", *(["account"] if accounts else []), "region", "item", "details"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for change in rows:
            details = "; ".join(
                f"{path}: {_short(v['old'])} → {_short(v['new'])}"
                for path, v in (change.get("changes") or {}).items()
            )
            cells = [
                change["change"],
                change["type"],
                *([_cell(change.get("account"))] if accounts else []),
                _cell(change["region"]),
                _cell(change["key"]),
                details,
            ]
            lines.append("| " + " | ".join(cells) + " |")
        if total > len(rows):
            lines += ["", f"… and {total - len(rows)} more."]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return "—" if value is None else str(value).replace("|", "\\|")


def _short(value: Any) -> str:
    text = _cell(value)
    return text if len(text) <= 60 else text[:57] + "..."
