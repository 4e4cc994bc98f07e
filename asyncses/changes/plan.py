"""Plans: reviewed lists of changes, built from reports.

:func:`plan` turns records (of a report) into changes for one action, keeping the records
that every ``where`` condition selects: a finding code (``DKIM_SIGNING_DISABLED``), or
``FIELD=VALUE`` / ``FIELD!=VALUE`` on a record's field by dotted path
(``IdentityType=DOMAIN``, ``DkimAttributes.Status=FAILED``, ``region=eu-west-1``).

A plan file is NDJSON: a first line ``{"type": "plan", ...}`` (the action, its arguments,
the reports, the conditions, the counts), then one ``{"type": "change", ...}`` per change.
Keep it in git, review it, cut lines out of it: :func:`read_plan` checks every line before
anything is sent.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from .._version import __version__
from ..engine.errors import ReportError, UsageError
from ..reports.files import ReportReader
from .actions import ACTIONS, Change, change_id, validate_change

__all__ = ["PLAN", "Plan", "Where", "parse_where", "plan", "read_plan"]

PLAN: Final = "plan"


@dataclass(frozen=True)
class Where:
    """One selection condition (see the module docstring)."""

    text: str
    field: str | None = None
    value: str | None = None
    negate: bool = False

    def selects(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` meets this condition."""
        if self.field is None:
            return self.text in (record.get("findings") or ())
        found = _lookup(record, self.field)
        same = found is not None and _text(found) == self.value
        return not same if self.negate else same


def parse_where(text: str) -> Where:
    """A condition from its text; :class:`UsageError` if it is neither a finding code nor
    ``FIELD=VALUE`` / ``FIELD!=VALUE``."""
    from ..reports.findings import FINDINGS

    if "!=" in text:
        name, value = text.split("!=", 1)
        return Where(text, name.strip(), value.strip(), negate=True)
    if "=" in text:
        name, value = text.split("=", 1)
        if not name.strip():
            raise UsageError(f"--where {text!r}: no field before '='")
        return Where(text, name.strip(), value.strip())
    code = text.strip().upper()
    if code not in FINDINGS:
        raise UsageError(
            f"--where {text!r}: not a finding code ({', '.join(FINDINGS)}) nor FIELD=VALUE"
        )
    return Where(code)


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def plan(
    action: str,
    records: Iterable[Mapping[str, Any]],
    *,
    arguments: Sequence[str] = (),
    where: Sequence[Where | str] = (),
) -> Iterator[Change]:
    """The changes of ``action`` for the records that every ``where`` selects (a finding
    code, ``FIELD=VALUE`` or ``FIELD!=VALUE``). Records of another type, and records whose
    lookup failed, are left out (nothing sure is known of them). Raises
    :class:`UsageError` for an unknown action or bad arguments."""
    conditions = [c if isinstance(c, Where) else parse_where(c) for c in where]
    chosen = ACTIONS.get(action)
    if chosen is None:
        raise UsageError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
    parsed = chosen.parse(arguments)
    seen: set[str] = set()
    for record in records:
        if record.get("type") != chosen.record_type or record.get("error") is not None:
            continue
        if not all(condition.selects(record) for condition in conditions):
            continue
        for target, call, expect, want in chosen.build(record, parsed):
            change: Change = {
                "type": "change",
                "id": "",
                "action": chosen.name,
                "region": str(record.get("region", "")),
                "target": target,
                "call": call,
                "expect": expect,
                "want": want,
                "destructive": chosen.destructive,
            }
            if record.get("account"):
                change["account"] = str(record["account"])
            change["id"] = change_id(change)
            if change["id"] in seen:
                continue  # the same item in two reports
            seen.add(change["id"])
            yield change


@dataclass
class Plan:
    """A plan as read from its file: its header and its checked changes."""

    header: dict[str, Any]
    changes: list[Change] = field(default_factory=list)

    @property
    def destructive(self) -> int:
        """How many changes are destructive."""
        return sum(1 for change in self.changes if change.get("destructive"))


def plan_header(
    action: str,
    arguments: Sequence[str],
    reports: Sequence[str],
    where: Sequence[Where],
    changes: Sequence[Change],
) -> dict[str, Any]:
    """The first line of a plan file."""
    return {
        "type": PLAN,
        "asyncses": __version__,
        "action": action,
        "arguments": list(arguments),
        "from": list(reports),
        "where": [condition.text for condition in where],
        "changes": len(changes),
        "destructive": sum(1 for change in changes if change.get("destructive")),
        "created": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and check a whole plan file (``-``: standard input); :class:`UsageError`
    naming the first line SES would refuse, or that is not a change."""
    reader = _lines(os.fspath(path))
    header: dict[str, Any] | None = None
    changes: list[Change] = []
    ids: set[str] = set()
    for number, line in reader:
        if line.get("type") == PLAN:
            if header is not None:
                raise UsageError(f"{path}:{number}: a second plan header")
            header = line
            continue
        if line.get("type") != "change":
            raise UsageError(f"{path}:{number}: not a change (type {line.get('type')!r})")
        change = validate_change(line, f"{path}:{number}")
        if change["id"] in ids:
            raise UsageError(f"{path}:{number}: change {change['id']} appears twice")
        ids.add(change["id"])
        changes.append(change)
    if header is None:
        raise UsageError(f"{path}: not a plan (no plan header line)")
    promised = header.get("changes")
    if isinstance(promised, int) and promised != len(changes):
        raise UsageError(
            f"{path}: the header says {promised} changes, the file holds {len(changes)}: cut "
            f'short? (if you removed changes on purpose, set "changes" to {len(changes)})'
        )
    return Plan(header, changes)


def _lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    import sys

    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the plan: {exc.strerror}") from None
    with stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise UsageError(f"{path}:{number}: not a JSON line") from None
            if not isinstance(line, dict):
                raise UsageError(f"{path}:{number}: not a JSON object")
            yield number, line


def report_records(paths: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The records of report files, for :func:`plan`."""
    for path in paths:
        try:
            for _number, _raw, record in ReportReader(path):
                yield record
        except ReportError as exc:
            raise UsageError(str(exc)) from None
