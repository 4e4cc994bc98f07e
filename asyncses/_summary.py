"""Summaries of reports: counts per type, region, status and finding, in one streaming pass."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Summary", "render_summary", "summarize"]

#: Record fields counted by value, by their dotted path.
COUNTED_FIELDS = (
    "type",
    "region",
    "account",
    "VerificationStatus",
    "DkimAttributes.Status",
    "ScalingMode",
    "JobStatus",
)

#: Count tables that ``to_json`` always has, empty if no record has the field.
ALWAYS_COUNTED = ("type", "region", "VerificationStatus", "DkimAttributes.Status", "findings")


@dataclass
class Summary:
    """Counts over the records of a report."""

    records: int = 0
    errors: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one record."""
        self.records += 1
        error = record.get("error")
        if error is not None:
            self.errors += 1
            code = error.get("code") if isinstance(error, Mapping) else None
            self._count("error.code", str(code or "unknown"))
        for path in COUNTED_FIELDS:
            value = _lookup(record, path)
            if value is not None:
                self._count(path, str(value))
        findings = record.get("findings")
        for finding in findings if isinstance(findings, list) else ():
            self._count("findings", str(finding))
        if record.get("type") == "import_job":
            for name in ("ProcessedRecordsCount", "FailedRecordsCount"):
                value = record.get(name)
                if isinstance(value, int) and not isinstance(value, bool):
                    self.counts.setdefault(name, Counter())["total"] += value

    def _count(self, path: str, value: str) -> None:
        self.counts.setdefault(path, Counter())[value] += 1

    def to_json(self) -> dict[str, Any]:
        """The summary as one JSON-ready object."""
        counts = {path: dict(counter.most_common()) for path, counter in self.counts.items()}
        for path in ALWAYS_COUNTED:
            counts.setdefault(path, {})
        return {"records": self.records, "errors": self.errors, "counts": counts}


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def summarize(records: Iterable[Mapping[str, Any]]) -> Summary:
    """Count ``records`` (any iterable, read once)."""
    summary = Summary()
    for record in records:
        summary.add(record)
    return summary


def render_summary(summary: Summary, fmt: str, *, title: str = "asyncses report") -> str:
    """The summary as ``text`` (tables for people), ``markdown`` or ``json``."""
    if fmt == "json":
        import orjson

        return orjson.dumps(summary.to_json()).decode()
    if fmt == "markdown":
        return _markdown(summary, title)
    return _text(summary, title)


def _markdown(summary: Summary, title: str) -> str:
    lines = [f"## {title}", "", f"**{summary.records}** records, **{summary.errors}** errors", ""]
    for path, counter in summary.counts.items():
        if not counter:
            continue
        lines += [f"| {path} | count |", "|---|---:|"]
        lines += [f"| {value} | {count} |" for value, count in counter.most_common()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _text(summary: Summary, title: str) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=False, color_system=None)
    console.print(f"{title}: {summary.records} records, {summary.errors} errors")
    table = Table(show_edge=False)
    table.add_column("field")
    table.add_column("value")
    table.add_column("count", justify="right")
    for path, counter in summary.counts.items():
        if not counter:
            continue
        for i, (value, count) in enumerate(counter.most_common()):
            table.add_row(path if i == 0 else "", value, str(count))
        table.add_section()
    console.print(table)
    return buffer.getvalue()
