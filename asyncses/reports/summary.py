"""Summaries of reports: counts per type, region, status and finding.

:func:`summarize` counts any iterable of records in one pass. :func:`summarize_reports`
reads report files (``-`` for standard input), counts each item once — the last record of a
key that appears more than once, with a warning — and notes reports that were cut short.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from .files import ReportReader
from .findings import FINDINGS
from .records import ItemKey, record_key

__all__ = ["Summary", "plural", "render_summary", "summarize", "summarize_reports"]

#: Record fields counted by value, by their dotted path.
COUNTED_FIELDS: Final = (
    "type",
    "region",
    "account",
    "VerificationStatus",
    "DkimAttributes.Status",
    "ConfigurationSetName",
    "ScalingMode",
    "JobStatus",
    "EnforcementStatus",
    "ProductionAccessEnabled",
    "DeliveryOptions.TlsPolicy",
    "Reason",
)

#: Count tables that ``to_json`` always has, empty if no record has the field.
ALWAYS_COUNTED: Final = (
    "type",
    "region",
    "VerificationStatus",
    "DkimAttributes.Status",
    "findings",
)


@dataclass
class Summary:
    """Counts over the records of one or more reports, and what was odd about them."""

    records: int = 0
    errors: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    #: Notes for the reader: duplicated keys, cut-short reports.
    warnings: list[str] = field(default_factory=list)

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
                self._count(path, _text_of(value))
        findings = record.get("findings")
        for finding in findings if isinstance(findings, list) else ():
            self._count("findings", str(finding))
        kind = record.get("type")
        if kind == "suppressed_destination":
            updated = record.get("LastUpdateTime")
            if isinstance(updated, str) and len(updated) >= 7:
                self._count("LastUpdateTime.month", updated[:7])
        elif kind == "contact":
            self._count("contacts per list", str(record.get("ContactListName")))
        elif kind == "outcome":  # an apply's outcomes file
            self._count("status", str(record.get("status")))
        if kind == "import_job":
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
        return {
            "records": self.records,
            "errors": self.errors,
            "counts": counts,
            "warnings": list(self.warnings),
        }


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text_of(value: Any) -> str:
    """A counted value as text; a list reads as its items, comma-separated."""
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def summarize(records: Iterable[Mapping[str, Any]]) -> Summary:
    """Count ``records`` (any iterable, read once; every record counts)."""
    summary = Summary()
    for record in records:
        summary.add(record)
    return summary


def summarize_reports(paths: Sequence[str]) -> Summary:
    """Count the records of report files (``-``: standard input), each item once.

    Two passes per file: the first finds keys that appear more than once (holding a hash
    per record, not the records), the second counts each item at its last record.
    """
    summary = Summary()
    with _spooled(paths) as files:
        counts: Counter[int] = Counter()
        for _name, path in files:
            for _n, _raw, record in ReportReader(path):
                counts[hash(_key(record))] += 1
        repeated = {h for h, n in counts.items() if n > 1}
        del counts
        remaining: Counter[ItemKey] = Counter()
        if repeated:
            for _name, path in files:
                for _n, _raw, record in ReportReader(path):
                    key = _key(record)
                    if hash(key) in repeated:
                        remaining[key] += 1
            duplicated = sum(1 for n in remaining.values() if n > 1)
            if duplicated:
                summary.warnings.append(
                    f"{duplicated} items have more than one record; the last one counts"
                )
        for name, path in files:
            reader = ReportReader(path)
            for _n, _raw, record in reader:
                key = _key(record)
                if remaining and remaining.get(key, 0) > 1:
                    remaining[key] -= 1
                    continue  # a later record of this item follows
                summary.add(record)
            if reader.torn:
                summary.warnings.append(f"{name}: the last line is cut short (ignored)")
            elif not reader.complete:
                summary.warnings.append(
                    f"{name}: no end line: the run that wrote it was interrupted, or the "
                    "file is cut short"
                )
    return summary


def _key(record: Mapping[str, Any]) -> ItemKey:
    try:
        return record_key(record)
    except (KeyError, ValueError):
        return (
            str(record.get("type")),
            None,
            "",
            orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode(),
        )


class _spooled:  # a context manager used like a function
    """The report files as (name, path) pairs; standard input is copied to a temporary file
    first, so that it can be read twice."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = paths
        self._temp: str | None = None

    def __enter__(self) -> list[tuple[str, str]]:
        files: list[tuple[str, str]] = []
        for path in self._paths:
            if path == "-":
                if self._temp is None:
                    fd, self._temp = tempfile.mkstemp(prefix="asyncses-stdin-")
                    with os.fdopen(fd, "wb") as out:
                        shutil.copyfileobj(sys.stdin.buffer, out)
                files.append(("<stdin>", self._temp))
            else:
                files.append((os.path.basename(path) or path, path))
        return files

    def __exit__(self, *exc: object) -> None:
        if self._temp is not None:
            os.unlink(self._temp)


def render_summary(summary: Summary, fmt: str, *, title: str = "asyncses report") -> str:
    """The summary as ``text`` (tables for people), ``markdown`` or ``json``."""
    if fmt == "json":
        return orjson.dumps(summary.to_json()).decode()
    if fmt == "markdown":
        return _markdown(summary, title)
    return _text(summary, title)


def _rows(summary: Summary) -> Iterator[tuple[str, Counter[str]]]:
    for path, counter in summary.counts.items():
        if counter and path != "findings":
            yield path, counter


def _markdown(summary: Summary, title: str) -> str:
    lines = [f"## {title}", ""]
    if not summary.records:
        lines += ["The report holds no records.", ""]
    else:
        lines += [
            f"**{summary.records}** {plural(summary.records, 'record')}, "
            f"**{summary.errors}** {plural(summary.errors, 'error')}",
            "",
        ]
    lines += [f"> warning: {warning}" for warning in summary.warnings]
    if summary.warnings:
        lines.append("")
    findings = summary.counts.get("findings")
    if findings:
        lines += ["| finding | count | why it matters | how to fix |", "|---|---:|---|---|"]
        for code, count in findings.most_common():
            explained = FINDINGS.get(code)
            why = explained.why if explained else ""
            fix = explained.fix if explained else ""
            lines.append(f"| {code} | {count} | {_cell(why)} | {_cell(fix)} |")
        lines.append("")
    for path, counter in _rows(summary):
        lines += [f"| {path} | count |", "|---|---:|"]
        lines += [f"| {_cell(value)} | {count} |" for value, count in counter.most_common()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _text(summary: Summary, title: str) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=False, color_system=None)
    if not summary.records:
        console.print(f"{title}: the report holds no records")
    else:
        console.print(
            f"{title}: {summary.records} {plural(summary.records, 'record')}, "
            f"{summary.errors} {plural(summary.errors, 'error')}"
        )
    for warning in summary.warnings:
        console.print(f"warning: {warning}")
    if not summary.records:
        return buffer.getvalue()
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


def plural(n: int, noun: str) -> str:
    """``noun`` as it goes after the number ``n``: "1 record", "3 records"."""
    return noun if n == 1 else f"{noun}s"
