"""The operator's tools end to end: ``asyncses summary``, ``asyncses diff`` and the scheduled
``scripts/daily-report``, against the local endpoint.

``summary``, ``diff`` and most daily-report runs are in-process (their ``main``); the runs that
are signalled, killed or given resource limits are child processes, watched through /proc.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from asyncses import FINDINGS
from asyncses.local import DEFAULT_ACCOUNT, LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import (
    DAILY_REPORT,
    REGION,
    ROOT,
    Cli,
    Result,
    load_script,
    parse_ndjson,
    read_lines,
    read_ndjson,
    run_cli,
)

EU = "eu-west-1"
OTHER_ACCOUNT = "210987654321"
FAST = ("--rate", "1000")  # no cautious start against the local endpoint
PUBLIC = json.dumps(
    {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ses:SendEmail"}]}
)


def _clean(ses: LocalSES, region: str, name: str, **fields: Any) -> None:
    """An identity with every check passing, then ``fields`` set on top."""
    settings: dict[str, Any] = {
        "verification_status": "SUCCESS",
        "dkim_status": "SUCCESS",
        "dkim_signing_enabled": True,
        "sending_enabled": True,
        "mail_from_domain": f"mail.{name}",
        "mail_from_status": "SUCCESS",
    }
    settings.update(fields)
    ses.set_identity(region, name, **settings)


def _identity(name: str, region: str = REGION, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "email_identity",
        "region": region,
        "IdentityType": "DOMAIN",
        "IdentityName": name,
        "VerificationStatus": "SUCCESS",
        "DkimAttributes": {"SigningEnabled": True, "Status": "SUCCESS"},
        "Policies": {},
        "findings": [],
        "error": None,
    }
    record.update(fields)
    return record


def _write(path: Path, records: Iterable[dict[str, Any]], *, run_lines: bool = True) -> Path:
    """A report of ``records``, with run header and end lines unless ``run_lines`` is off."""
    rows = list(records)
    lines = [orjson.dumps(record) + b"\n" for record in rows]
    if run_lines:
        head = {"type": "run", "record_type": "email_identity"}
        end = {"type": "run_end", "records": len(rows), "errors": 0}
        lines = [orjson.dumps(head) + b"\n", *lines, orjson.dumps(end) + b"\n"]
    path.write_bytes(b"".join(lines))
    return path


def _audit(ses: LocalSES, cli: Cli, report: Path, *regions: str) -> list[dict[str, Any]]:
    region_list = ",".join(regions or (REGION,))
    args = ["identities", "--region", region_list, "--endpoint-url", ses.url, "-o", str(report)]
    result = cli(*args, *FAST, "--no-progress")
    assert result.code == 0, result.err
    return read_ndjson(report)


# -- summary -------------------------------------------------------------------------------


def test_summary_json_counts_several_reports(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """summary of two reports counts both, per type, region, status and finding."""
    ses.seed_identities(REGION, 30, prefix="use")
    ses.seed_identities(EU, 12, prefix="euw", seed=7)
    _clean(ses, EU, "public.example.com", policies={"open": PUBLIC})
    first = _audit(ses, cli, tmp_path / "use.ndjson", REGION)
    second = _audit(ses, cli, tmp_path / "euw.ndjson", EU)
    records = first + second
    result = cli(
        "summary", str(tmp_path / "use.ndjson"), str(tmp_path / "euw.ndjson"), "--format", "json"
    )
    assert result.code == 0, result.err
    assert result.err == ""
    summary = json.loads(result.out)
    assert summary["records"] == len(records) == 43
    assert summary["errors"] == 0
    assert summary["counts"]["region"] == {REGION: 30, EU: 13}
    assert summary["counts"]["type"] == {"email_identity": 43}
    statuses: dict[str, int] = {}
    findings: dict[str, int] = {}
    for record in records:
        statuses[record["VerificationStatus"]] = statuses.get(record["VerificationStatus"], 0) + 1
        for code in record["findings"]:
            findings[code] = findings.get(code, 0) + 1
    assert summary["counts"]["VerificationStatus"] == statuses and len(statuses) > 1
    assert summary["counts"]["findings"] == findings and findings["PUBLIC_POLICY"] == 1
    assert summary["warnings"] == []


def test_summary_reads_standard_input(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """``summary -`` reads the report from standard input, as a pipeline would give it."""
    ses.seed_identities(REGION, 9)
    report = tmp_path / "report.ndjson"
    _audit(ses, cli, report)
    from_file = cli("summary", str(report), "--format", "markdown")
    piped = run_cli("summary", "-", "--format", "markdown", input=report.read_text())
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith("## stdin\n")
    assert "**9** records, **0** errors" in piped.stdout
    assert piped.stdout.split("\n", 1)[1] == from_file.out.split("\n", 1)[1]


@pytest.mark.parametrize(
    ("fmt", "says"),
    [
        ("text", "empty.ndjson: the report holds no records"),
        ("markdown", "The report holds no records."),
        ("json", '"records":0'),
    ],
)
def test_summary_of_an_empty_report_says_so(tmp_path: Path, cli: Cli, fmt: str, says: str) -> None:
    """An empty report is summarized as empty, in every format, without failing."""
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    result = cli("summary", str(empty), "--format", fmt)
    assert result.code == 0, result.err
    assert says in result.out
    if fmt == "json":
        counts = json.loads(result.out)["counts"]
        for name in ("type", "region", "VerificationStatus", "DkimAttributes.Status", "findings"):
            assert counts[name] == {}


def test_summary_counts_duplicates_once_and_warns(tmp_path: Path, cli: Cli) -> None:
    """An item in two reports (or twice in one) counts once, at its last record, with a warning."""
    old = _write(
        tmp_path / "old.ndjson",
        [_identity("a.example.com", VerificationStatus="PENDING"), _identity("b.example.com")],
    )
    new = _write(
        tmp_path / "new.ndjson",
        [_identity("a.example.com"), _identity("c.example.com", region=EU)],
    )
    result = cli("summary", str(old), str(new), "--format", "json")
    assert result.code == 0
    summary = json.loads(result.out)
    assert summary["records"] == 3
    assert summary["counts"]["VerificationStatus"] == {"SUCCESS": 3}  # the last record of a
    warning = "1 items have more than one record; the last one counts"
    assert summary["warnings"] == [warning]
    assert result.err == f"asyncses: warning: {warning}\n"


def test_summary_of_the_same_report_twice(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """Naming one report twice counts each item once."""
    ses.seed_identities(REGION, 5)
    report = tmp_path / "report.ndjson"
    _audit(ses, cli, report)
    result = cli("summary", str(report), str(report), "--format", "json")
    assert json.loads(result.out)["records"] == 5
    assert "5 items have more than one record" in result.err


def test_summary_text_is_a_plain_table(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """The text format is a table for people, with no colour codes off a terminal."""
    _clean(ses, REGION, "a.example.com", policies={"open": PUBLIC})
    _clean(ses, REGION, "b.example.com", sending_enabled=False)
    _clean(ses, EU, "c.example.com")
    report = tmp_path / "report.ndjson"
    _audit(ses, cli, report, REGION, EU)
    result = cli("summary", str(report))
    assert result.code == 0
    assert result.out.startswith("report.ndjson: 3 records, 0 errors\n")
    assert "\x1b[" not in result.out
    rows = [" ".join(line.replace("│", " ").split()) for line in result.out.splitlines()]
    assert "region us-east-1 2" in rows and "eu-west-1 1" in rows
    assert "findings PUBLIC_POLICY 1" in rows or "PUBLIC_POLICY 1" in rows


def test_summary_markdown_explains_each_finding(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """Markdown has a row per finding with why it matters and how to fix it, then the counts."""
    _clean(ses, REGION, "public.example.com", policies={"open": PUBLIC})
    _clean(ses, REGION, "off.example.com", sending_enabled=False, dkim_signing_enabled=False)
    _clean(ses, EU, "pending.example.com", verification_status="PENDING")
    report = tmp_path / "report.ndjson"
    records = _audit(ses, cli, report, REGION, EU)
    result = cli("summary", str(report), "--format", "markdown")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "## report.ndjson"
    assert "**3** records, **0** errors" in lines
    assert "| finding | count | why it matters | how to fix |" in lines
    codes = {code for record in records for code in record["findings"]}
    assert codes >= {"PUBLIC_POLICY", "SENDING_DISABLED", "DKIM_SIGNING_DISABLED", "NOT_VERIFIED"}
    for code in codes:
        explained = FINDINGS[code]
        row = next(line for line in lines if line.startswith(f"| {code} |"))
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[2] == explained.why.replace("|", "\\|")
        assert cells[3] == explained.fix.replace("|", "\\|")
    assert "| region | count |" in lines
    assert "| us-east-1 | 2 |" in lines and "| eu-west-1 | 1 |" in lines


def test_summary_shows_list_values_as_comma_lists(tmp_path: Path, cli: Cli) -> None:
    """A counted field holding a list shows as one comma list (an empty one as "(none)")."""
    report = _write(
        tmp_path / "report.ndjson",
        [
            {
                "type": "dedicated_ip_pool",
                "region": REGION,
                "PoolName": "a",
                "ScalingMode": ["STANDARD", "MANAGED"],
            },
            {"type": "dedicated_ip_pool", "region": REGION, "PoolName": "b", "ScalingMode": []},
        ],
    )
    markdown = cli("summary", str(report), "--format", "markdown")
    assert "| STANDARD, MANAGED | 1 |" in markdown.out.splitlines()
    assert "| (none) | 1 |" in markdown.out.splitlines()
    counts = json.loads(cli("summary", str(report), "--format", "json").out)["counts"]
    assert counts["ScalingMode"] == {"STANDARD, MANAGED": 1, "(none)": 1}


def test_summary_counts_error_records(tmp_path: Path, cli: Cli) -> None:
    """Error records count as records and by error code."""
    error = {
        "code": "AccessDenied",
        "message": "no",
        "operation": "GetEmailIdentity",
        "attempts": 1,
    }
    report = _write(
        tmp_path / "report.ndjson",
        [_identity("a.example.com"), _identity("b.example.com", error=error)],
    )
    summary = json.loads(cli("summary", str(report), "--format", "json").out)
    assert (summary["records"], summary["errors"]) == (2, 1)
    assert summary["counts"]["error.code"] == {"AccessDenied": 1}


def test_summary_of_a_corrupt_report_names_the_line(tmp_path: Path, cli: Cli) -> None:
    """A line in the middle that is not JSON is an error naming file and line (exit 2)."""
    report = _write(tmp_path / "report.ndjson", [_identity("a.example.com")])
    lines = report.read_bytes().splitlines(keepends=True)
    report.write_bytes(lines[0] + b"{not json\n" + b"".join(lines[1:]))
    result = cli("summary", str(report))
    assert result.code == 2
    assert result.err == f"asyncses: error: {report}:2: not a JSON record\n"
    assert result.out == ""


def test_summary_of_a_missing_report_is_a_one_line_error(tmp_path: Path, cli: Cli) -> None:
    """A report that does not exist exits 2 with one line naming it."""
    result = cli("summary", str(tmp_path / "nope.ndjson"))
    assert result.code == 2
    assert result.err.strip().endswith("nope.ndjson: no such report")
    assert len(result.err.splitlines()) == 1


# -- diff ----------------------------------------------------------------------------------


def _changes(text: str) -> list[dict[str, Any]]:
    return sorted(parse_ndjson(text), key=lambda c: (c["change"], c["region"], c["key"]))


def test_diff_of_a_report_with_itself_is_silent(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """``diff R R`` prints nothing at all and exits 0."""
    ses.seed_identities(REGION, 12)
    report = tmp_path / "report.ndjson"
    _audit(ses, cli, report)
    result = cli("diff", str(report), str(report))
    assert (result.code, result.out, result.err) == (0, "", "")
    markdown = cli("diff", str(report), str(report), "--format", "markdown")
    assert markdown.code == 0 and "0 added, 0 removed, 0 changed" in markdown.out


def test_diff_of_two_runs_that_saw_the_same_is_silent(
    ses: LocalSES, tmp_path: Path, cli: Cli
) -> None:
    """Two audits of an unchanged account differ in their run lines only: nothing changed."""
    ses.seed_identities(REGION, 6)
    _audit(ses, cli, tmp_path / "a.ndjson")
    _audit(ses, cli, tmp_path / "b.ndjson")
    assert read_lines(tmp_path / "a.ndjson")[0] != read_lines(tmp_path / "b.ndjson")[0]
    result = cli("diff", str(tmp_path / "a.ndjson"), str(tmp_path / "b.ndjson"))
    assert (result.code, result.out) == (0, "")


def test_diff_of_different_kinds_of_run_warns(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """A full report against a --list-only one: every looked-up field shows as a change, and
    one warning says why; two runs of one kind give no warning."""
    ses.seed_identities(REGION, 4)
    _audit(ses, cli, tmp_path / "full.ndjson")
    listed = cli(
        "identities", "--list-only", "--region", REGION, "--endpoint-url", ses.url,
        "-o", str(tmp_path / "list.ndjson"), *FAST, "--no-progress",
    )  # fmt: skip
    assert listed.code == 0, listed.err
    result = cli("diff", str(tmp_path / "full.ndjson"), str(tmp_path / "list.ndjson"))
    assert result.code == 1
    warnings = [line for line in result.err.splitlines() if "different kinds of run" in line]
    assert len(warnings) == 1 and "list_only=True" in warnings[0], result.err
    same = cli("diff", str(tmp_path / "list.ndjson"), str(tmp_path / "list.ndjson"))
    assert (same.code, same.err) == (0, "")


def test_diff_added_removed_changed_exits_1(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """Changes between two audits are found by (type, region, name); exit 1 says so."""
    _clean(ses, REGION, "stays.example.com")
    _clean(ses, REGION, "goes.example.com")
    _clean(ses, REGION, "turns.example.com")
    _audit(ses, cli, tmp_path / "old.ndjson", REGION, EU)
    ses.delete_identity(REGION, "goes.example.com")
    _clean(ses, EU, "comes.example.com")
    _clean(ses, REGION, "turns.example.com", policies={"open": PUBLIC}, sending_enabled=False)
    _audit(ses, cli, tmp_path / "new.ndjson", REGION, EU)
    result = cli("diff", str(tmp_path / "old.ndjson"), str(tmp_path / "new.ndjson"))
    assert result.code == 1, result.err
    head = {"type": "email_identity"}
    assert _changes(result.out) == [
        {"change": "added", **head, "region": EU, "key": "comes.example.com"},
        {
            "change": "changed",
            **head,
            "region": REGION,
            "key": "turns.example.com",
            "changes": {
                "Policies.open": {"old": None, "new": PUBLIC},
                "SendingEnabled": {"old": True, "new": False},
                "findings": {"old": [], "new": ["SENDING_DISABLED", "PUBLIC_POLICY"]},
                "findings_detail.PUBLIC_POLICY": {
                    "old": None,
                    "new": [{"policy": "open", "statement": 0}],
                },
            },
        },
        {"change": "removed", **head, "region": REGION, "key": "goes.example.com"},
    ]


def test_diff_markdown(tmp_path: Path, cli: Cli) -> None:
    """Markdown: the counts, then one row per change with what changed; exit 1 all the same."""
    old = _write(
        tmp_path / "old.ndjson", [_identity("x.example.com"), _identity("gone.example.com")]
    )
    new = _write(
        tmp_path / "new.ndjson",
        [_identity("x.example.com", VerificationStatus="FAILED"), _identity("new.example.com")],
    )
    result = cli("diff", str(old), str(new), "--format", "markdown")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "## Changes from old.ndjson to new.ndjson"
    assert "1 added, 1 removed, 1 changed" in lines
    assert "| change | type | region | item | details |" in lines
    row = next(line for line in lines if "x.example.com" in line)
    assert row.startswith("| changed | email_identity | us-east-1 |")
    assert "VerificationStatus: SUCCESS → FAILED" in row
    assert any(line.startswith("| removed |") and "gone.example.com" in line for line in lines)


def test_diff_markdown_shows_accounts_when_there_are_some(tmp_path: Path, cli: Cli) -> None:
    """The same name in another account is another item; the account column appears."""
    old = _write(tmp_path / "old.ndjson", [_identity("x.example.com", account=DEFAULT_ACCOUNT)])
    new = _write(tmp_path / "new.ndjson", [_identity("x.example.com", account=OTHER_ACCOUNT)])
    result = cli("diff", str(old), str(new))
    assert sorted((c["change"], c["account"]) for c in parse_ndjson(result.out)) == [
        ("added", OTHER_ACCOUNT),
        ("removed", DEFAULT_ACCOUNT),
    ]
    markdown = cli("diff", str(old), str(new), "--format", "markdown")
    assert "| change | type | account | region | item | details |" in markdown.out


def test_diff_compares_the_last_of_duplicated_records(tmp_path: Path, cli: Cli) -> None:
    """An item twice on one side is compared at its last record, with a warning."""
    old = _write(
        tmp_path / "old.ndjson",
        [_identity("a.example.com", VerificationStatus="PENDING"), _identity("a.example.com")],
    )
    new = _write(tmp_path / "new.ndjson", [_identity("a.example.com")])
    result = cli("diff", str(old), str(new))
    assert (result.code, result.out) == (0, "")
    assert result.err == (
        "asyncses: warning: the old report has 1 repeated records; the last one of each counts\n"
    )
    flipped = cli("diff", str(new), str(old))
    assert flipped.code == 0
    assert "the new report has 1 repeated records" in flipped.err


def test_diff_with_several_files_per_side(tmp_path: Path, cli: Cli) -> None:
    """--old and --new add files to either side (shards of one run): compared as one report."""
    old_a = _write(tmp_path / "old-a.ndjson", [_identity("a.example.com")])
    old_b = _write(tmp_path / "old-b.ndjson", [_identity("b.example.com", region=EU)])
    new_a = _write(tmp_path / "new-a.ndjson", [_identity("a.example.com")])
    new_b = _write(tmp_path / "new-b.ndjson", [_identity("b.example.com", region=EU)])
    same = cli("diff", str(old_a), str(new_a), "--old", str(old_b), "--new", str(new_b))
    assert (same.code, same.out) == (0, "")
    alone = cli("diff", str(old_a), str(new_a), "--old", str(old_b))
    assert alone.code == 1
    assert [(c["change"], c["key"]) for c in parse_ndjson(alone.out)] == [
        ("removed", "b.example.com")
    ]
    new_c = _write(tmp_path / "new-c.ndjson", [_identity("c.example.com")])
    more = cli(
        "diff",
        str(old_a),
        str(new_a),
        "--old",
        str(old_b),
        "--new",
        str(new_b),
        "--new",
        str(new_c),
    )
    assert [(c["change"], c["key"]) for c in parse_ndjson(more.out)] == [("added", "c.example.com")]


def test_diff_failed_lookup_is_not_a_change(tmp_path: Path, cli: Cli) -> None:
    """An item whose lookup failed is compared on the fields it still has, findings aside."""
    error = {"code": "Throttling", "message": "x", "operation": "GetEmailIdentity", "attempts": 8}
    listed = {
        "type": "email_identity",
        "region": REGION,
        "IdentityName": "a.example.com",
        "VerificationStatus": "SUCCESS",
        "findings": [],
        "error": error,
    }
    old = _write(
        tmp_path / "old.ndjson",
        [_identity("a.example.com", findings=["DKIM_NOT_VERIFIED"]), _identity("b.example.com")],
    )
    new = _write(
        tmp_path / "new.ndjson",
        [listed, {**listed, "IdentityName": "b.example.com", "VerificationStatus": "FAILED"}],
    )
    result = cli("diff", str(old), str(new))
    assert result.code == 1
    assert parse_ndjson(result.out) == [
        {
            "change": "changed",
            "type": "email_identity",
            "region": REGION,
            "key": "b.example.com",
            "changes": {"VerificationStatus": {"old": "SUCCESS", "new": "FAILED"}},
        }
    ]


def test_diff_warns_about_a_cut_short_report(tmp_path: Path, cli: Cli) -> None:
    """A side without its end line is compared, with a warning that it was cut short."""
    old = _write(tmp_path / "old.ndjson", [_identity("a.example.com")])
    new = _write(tmp_path / "new.ndjson", [_identity("a.example.com")])
    new.write_bytes(b"".join(new.read_bytes().splitlines(keepends=True)[:-1]))
    result = cli("diff", str(old), str(new))
    assert (result.code, result.out) == (0, "")
    assert "new.ndjson: no end line" in result.err


def test_diff_of_a_foreign_file_is_a_one_line_error(tmp_path: Path, cli: Cli) -> None:
    """JSON objects that are not asyncses records are refused with exit 2 and one line."""
    old = _write(tmp_path / "old.ndjson", [{"hello": "world"}])
    new = _write(tmp_path / "new.ndjson", [_identity("a.example.com")])
    result = cli("diff", str(old), str(new))
    assert result.code == 2
    assert len(result.err.splitlines()) == 1
    assert "not an asyncses record" in result.err


def test_diff_reads_standard_input_once(tmp_path: Path, cli: Cli) -> None:
    """Standard input can be one side, not both."""
    report = _write(tmp_path / "r.ndjson", [_identity("a.example.com")])
    result = cli("diff", "-", "-", "--old", str(report))
    assert result.code == 2 and "standard input" in result.err
    piped = run_cli("diff", str(report), "-", input=report.read_text())
    assert (piped.returncode, piped.stdout) == (0, "")


# -- the scheduled report ------------------------------------------------------------------


@pytest.fixture(scope="module")
def daily_module() -> ModuleType:
    """scripts/daily-report loaded as a module (its ``main`` runs in this process)."""
    return load_script(DAILY_REPORT, "daily_report")


@pytest.fixture
def daily(daily_module: ModuleType, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``daily-report --dir FOLDER ARGS`` in this process."""

    def run(folder: Path, *args: str) -> Result:
        capsys.readouterr()
        try:
            code = int(daily_module.main(["--dir", str(folder), *FAST, *args]))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def _files(folder: Path) -> list[str]:
    """The visible files of the report folder."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _hidden(folder: Path) -> list[str]:
    """Hidden files other than the folder's lock file: what a run must not leave behind."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith(".") and p.name != ".daily-report.lock"
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_daily_report_end_to_end(ses: LocalSES, tmp_path: Path, daily: Cli) -> None:
    """A report and Markdown per date, the changes since the previous day, --fail-on, --keep."""
    assert os.access(DAILY_REPORT, os.X_OK)
    assert DAILY_REPORT.read_text().startswith("#!/usr/bin/env python3\n")
    _clean(ses, REGION, "stays.example.com")
    _clean(ses, REGION, "goes.example.com")
    _clean(ses, EU, "turns.example.com")
    folder = tmp_path / "reports"
    common = ("--resources", "identities", "--region", f"{REGION},{EU}", "--endpoint-url", ses.url)

    first = daily(folder, *common, "--date", "2024-05-01")
    assert first.code == 0, first.err
    assert _files(folder) == ["identities-2024-05-01.ndjson", "report-2024-05-01.md"]
    assert _hidden(folder) == []
    assert len(read_ndjson(folder / "identities-2024-05-01.ndjson")) == 3
    markdown = (folder / "report-2024-05-01.md").read_text()
    assert markdown.startswith("# SES audit 2024-05-01\n")
    assert "## identities" in markdown
    assert "No previous report" in markdown
    assert "| us-east-1 | 2 |" in markdown.splitlines()
    assert "wrote identities-2024-05-01.ndjson and report-2024-05-01.md" in first.err

    ses.delete_identity(REGION, "goes.example.com")
    _clean(ses, REGION, "comes.example.com")
    _clean(ses, EU, "turns.example.com", policies={"open": PUBLIC})
    second = daily(folder, *common, "--date", "2024-05-02", "--fail-on", "PUBLIC_POLICY")
    assert second.code == 1, second.err  # the audit's exit code
    assert len(_files(folder)) == 4
    names = {r["IdentityName"] for r in read_ndjson(folder / "identities-2024-05-02.ndjson")}
    assert names == {"stays.example.com", "comes.example.com", "turns.example.com"}
    markdown = (folder / "report-2024-05-02.md").read_text()
    lines = markdown.splitlines()
    assert "### Changes since `identities-2024-05-01.ndjson`" in lines
    assert "1 added, 1 removed, 1 changed" in lines
    assert any(line.startswith("| added |") and "comes.example.com" in line for line in lines)
    assert any(line.startswith("| removed |") and "goes.example.com" in line for line in lines)
    assert "| eu-west-1 | turns.example.com | PUBLIC_POLICY |" in lines
    assert "audit exit code 1" in markdown
    assert FINDINGS["PUBLIC_POLICY"].why in markdown

    (folder / "notes.txt").write_text("not a report")
    third = daily(folder, *common, "--date", "2024-05-03", "--keep", "1")
    assert third.code == 0, third.err
    assert _files(folder) == ["identities-2024-05-03.ndjson", "notes.txt", "report-2024-05-03.md"]
    assert "deleted identities-2024-05-01.ndjson" in third.err
    text = (folder / "report-2024-05-03.md").read_text()
    assert "Changes since `identities-2024-05-02.ndjson`" in text


def test_daily_report_default_resources(ses: LocalSES, tmp_path: Path, daily: Cli) -> None:
    """Without --resources: identities, account and configuration sets, one Markdown for all."""
    _clean(ses, REGION, "a.example.com")
    ses.seed_configuration_sets(REGION, 2)
    folder = tmp_path / "reports"
    result = daily(folder, "--region", REGION, "--endpoint-url", ses.url, "--date", "2024-05-01")
    assert result.code == 0, result.err
    assert _files(folder) == [
        "account-2024-05-01.ndjson",
        "configuration-sets-2024-05-01.ndjson",
        "identities-2024-05-01.ndjson",
        "report-2024-05-01.md",
    ]
    markdown = (folder / "report-2024-05-01.md").read_text()
    for name in ("identities", "account", "configuration-sets"):
        assert f"\n## {name}\n" in markdown
    assert len(read_ndjson(folder / "configuration-sets-2024-05-01.ndjson")) == 2


def test_daily_report_same_day_compares_with_the_earlier_run(
    ses: LocalSES, tmp_path: Path, daily: Cli
) -> None:
    """A second run on the same day replaces that day's report and shows the changes since."""
    _clean(ses, REGION, "a.example.com")
    folder = tmp_path / "reports"
    common = ("--resources", "identities", "--region", REGION, "--endpoint-url", ses.url)
    assert daily(folder, *common, "--date", "2024-05-01").code == 0
    _clean(ses, REGION, "b.example.com")
    again = daily(folder, *common, "--date", "2024-05-01")
    assert again.code == 0, again.err
    assert _files(folder) == ["identities-2024-05-01.ndjson", "report-2024-05-01.md"]
    assert _hidden(folder) == []  # the snapshot of the earlier run is gone
    assert len(read_ndjson(folder / "identities-2024-05-01.ndjson")) == 2
    markdown = (folder / "report-2024-05-01.md").read_text()
    assert "### Changes since the earlier run of the day" in markdown
    assert "1 added, 0 removed, 0 changed" in markdown


def _earlier_reports(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    before = {
        "identities-2024-05-01.ndjson": orjson.dumps(_identity("a.example.com")) + b"\n",
        "report-2024-05-01.md": b"# SES audit 2024-05-01\n",
        "identities-2024-05-02.ndjson": orjson.dumps(_identity("b.example.com")) + b"\n",
        "report-2024-05-02.md": b"# SES audit 2024-05-02\n",
    }
    for name, data in before.items():
        (folder / name).write_bytes(data)
    return before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--endpoint-url", "http://127.0.0.1:9"), "cannot reach SES"),
        (("--region", "not a region"), "invalid region"),
        (("--fail-on", "NOT_A_CODE"), "unknown finding"),
    ],
    ids=["unreachable-endpoint", "bad-region", "bad-fail-on"],
)
def test_daily_report_refused_run_leaves_everything(
    ses: LocalSES, tmp_path: Path, daily: Cli, args: tuple[str, ...], says: str
) -> None:
    """A refused run exits 2 and leaves the folder as it was: no report, no pruning, no litter."""
    folder = tmp_path / "reports"
    before = _earlier_reports(folder)
    if "--endpoint-url" not in args:
        args = ("--endpoint-url", ses.url, *args)
    result = daily(
        folder, "--resources", "identities", "--date", "2024-05-02", "--keep", "1", *args
    )
    assert result.code == 2, result.err
    assert says in result.err
    assert _snapshot(folder) == before | (
        {".daily-report.lock": b""} if (folder / ".daily-report.lock").exists() else {}
    )
    assert _hidden(folder) == []


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _mentioning(text: str) -> list[int]:
    """The processes whose command line mentions ``text`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
def slow_proxy(ses: LocalSES) -> Iterator[FaultProxy]:
    """A proxy that answers each identity lookup after a quarter of a second."""
    faults = Faults(latency=0.25, match=r"^GET /v2/email/identities/.")
    with FaultProxy(ses.url, faults) as proxy:
        yield proxy


def _start_daily(
    folder: Path, url: str, date: str, resources: str = "identities"
) -> subprocess.Popen[str]:
    """The script in a child process, one lookup at a time."""
    return subprocess.Popen(
        [
            sys.executable,
            str(DAILY_REPORT),
            "--dir",
            str(folder),
            "--resources",
            resources,
            "--region",
            REGION,
            "--endpoint-url",
            url,
            "--concurrency",
            "1",
            "--date",
            date,
            *FAST,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_daily_report_sigterm_promotes_nothing(
    ses: LocalSES, tmp_path: Path, slow_proxy: FaultProxy, daily: Cli
) -> None:
    """SIGTERM mid-audit exits 143; the day's earlier report and Markdown stay as they were."""
    ses.seed_identities(REGION, 10)
    folder = tmp_path / "reports"
    before = _earlier_reports(folder)
    process = _start_daily(folder, slow_proxy.url, "2024-05-02")
    try:
        assert slow_proxy.stats.wait_for(lambda s: s.forwarded >= 3, timeout=30)
        assert (folder / ".daily-report.staging").is_dir()  # the run is under way
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert "interrupted" in err
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert _files(folder) == sorted(before)
    assert not (folder / ".daily-report.staging").exists()
    # Whatever the interrupted audit kept for itself, the next run clears away.
    after = daily(
        folder, "--resources", "identities", "--endpoint-url", ses.url, "--date", "2024-05-02"
    )
    assert after.code == 0, after.err
    assert _hidden(folder) == []
    assert len(read_ndjson(folder / "identities-2024-05-02.ndjson")) == 10


def test_daily_report_sigterm_in_a_later_resource_promotes_nothing(
    ses: LocalSES, tmp_path: Path, daily: Cli
) -> None:
    """Stopped while auditing its second resource, a run leaves the day's files as they were."""
    import threading

    _clean(ses, REGION, "a.example.com")
    folder = tmp_path / "reports"
    common = (
        "--resources",
        "identities,account",
        "--endpoint-url",
        ses.url,
        "--date",
        "2024-05-01",
    )
    assert daily(folder, *common).code == 0
    before = _snapshot(folder)
    _clean(ses, REGION, "b.example.com")
    account_asked = threading.Event()

    def slow_account(_account: str, _region: str, _params: dict[str, Any]) -> None:
        account_asked.set()
        time.sleep(3)

    ses.before("GetAccount", slow_account)
    process = _start_daily(folder, ses.url, "2024-05-01", "identities,account")
    try:
        assert account_asked.wait(timeout=30)  # the identities audit is over
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert {name: (folder / name).read_bytes() for name in before} == before


def test_daily_report_kill_9_leaves_no_process_and_the_next_run_cleans_up(
    ses: LocalSES, tmp_path: Path, slow_proxy: FaultProxy, daily: Cli
) -> None:
    """kill -9 leaves no process behind; the next run removes the killed run's leftovers."""
    ses.seed_identities(REGION, 10)
    folder = tmp_path / "reports"
    before = _earlier_reports(folder)
    process = _start_daily(folder, slow_proxy.url, "2024-05-02")
    try:
        assert slow_proxy.stats.wait_for(lambda s: s.forwarded >= 3, timeout=30)
        assert _children(process.pid) == []  # no worker processes to orphan
        assert _mentioning(str(folder)) == [process.pid]
        process.kill()
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    assert _mentioning(str(folder)) == []
    assert {name: (folder / name).read_bytes() for name in before} == before
    (folder / ".report-2024-05-02.md.tmp").write_text("a Markdown file cut short")
    left = _hidden(folder)
    assert left == [".daily-report.staging", ".report-2024-05-02.md.tmp"]
    assert (folder / ".daily-report.staging" / ".identities-2024-05-02.ndjson.partial").exists()
    result = daily(
        folder, "--resources", "identities", "--endpoint-url", ses.url, "--date", "2024-05-02"
    )
    assert result.code == 0, result.err
    for name in left:
        assert f"daily-report: removed {name}, left by a killed run" in result.err
    assert _hidden(folder) == []
    assert len(read_ndjson(folder / "identities-2024-05-02.ndjson")) == 10


def test_daily_report_markdown_write_failure_exits_3(
    ses: LocalSES, tmp_path: Path, daily: Cli
) -> None:
    """A Markdown that cannot be written (its name taken by a folder) exits 3, no temp file."""
    _clean(ses, REGION, "a.example.com")
    folder = tmp_path / "reports"
    (folder / "report-2024-05-01.md").mkdir(parents=True)
    result = daily(
        folder, "--resources", "identities", "--endpoint-url", ses.url, "--date", "2024-05-01"
    )
    assert result.code == 3, result.err
    assert "cannot write the report" in result.err and "report-2024-05-01.md" in result.err
    assert _hidden(folder) == []


def test_daily_report_report_write_failure_exits_3(ses: LocalSES, tmp_path: Path) -> None:
    """A report write refused (file size limit) exits 3: earlier files intact, no temp files."""
    for i in range(4):
        ses.set_identity(REGION, f"big-{i}.example.com", policies={"big": "x" * 12_000})
    folder = tmp_path / "reports"
    before = _earlier_reports(folder)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    result = subprocess.run(
        [
            sys.executable,
            str(DAILY_REPORT),
            "--dir",
            str(folder),
            "--resources",
            "identities",
            "--endpoint-url",
            ses.url,
            "--date",
            "2024-05-02",
            "--keep",
            "1",
            *FAST,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        preexec_fn=limit,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "File too large" in result.stderr
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert _files(folder) == sorted(before)
    assert _hidden(folder) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_daily_report_read_only_folder_exits_3(ses: LocalSES, tmp_path: Path, daily: Cli) -> None:
    """A folder made read-only after the first run: exit 3, the first run's files intact."""
    _clean(ses, REGION, "a.example.com")
    folder = tmp_path / "reports"
    args = ("--resources", "identities", "--endpoint-url", ses.url, "--date", "2024-05-01")
    assert daily(folder, *args).code == 0
    before = _snapshot(folder)
    folder.chmod(0o555)
    try:
        result = daily(folder, *args)
    finally:
        folder.chmod(0o755)
    assert result.code == 3, result.err
    assert _snapshot(folder) == before
    assert _hidden(folder) == []


def test_daily_report_environment_variables(
    ses: LocalSES,
    tmp_path: Path,
    daily_module: ModuleType,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ASYNCSES_REPORT_DIR, _REGIONS, _KEEP, _FAIL_ON and _RESOURCES configure a run; flags win."""
    _clean(ses, REGION, "a.example.com")
    _clean(ses, EU, "b.example.com", policies={"open": PUBLIC})
    folder = tmp_path / "from-env"
    monkeypatch.setenv("ASYNCSES_REPORT_DIR", str(folder))
    monkeypatch.setenv("ASYNCSES_REGIONS", f"{REGION},{EU}")
    monkeypatch.setenv("ASYNCSES_KEEP", "1")
    monkeypatch.setenv("ASYNCSES_FAIL_ON", "PUBLIC_POLICY")
    monkeypatch.setenv("ASYNCSES_RESOURCES", "identities")

    def run(*args: str) -> int:
        code = int(daily_module.main(["--endpoint-url", ses.url, *FAST, *args]))
        capsys.readouterr()
        return code

    assert run("--date", "2024-05-01") == 1  # ASYNCSES_FAIL_ON
    records = read_ndjson(folder / "identities-2024-05-01.ndjson")
    assert {r["region"] for r in records} == {REGION, EU}  # ASYNCSES_REGIONS
    assert run("--date", "2024-05-02") == 1
    assert _files(folder) == ["identities-2024-05-02.ndjson", "report-2024-05-02.md"]  # KEEP=1
    # Flags override the environment.
    assert (
        run("--date", "2024-05-03", "--keep", "3", "--region", REGION, "--fail-on", "NOT_VERIFIED")
        == 0
    )
    assert {r["region"] for r in read_ndjson(folder / "identities-2024-05-03.ndjson")} == {REGION}
    assert len(_files(folder)) == 4
    other = tmp_path / "from-flag"
    assert run("--date", "2024-05-03", "--dir", str(other)) == 1
    assert _files(other) == ["identities-2024-05-03.ndjson", "report-2024-05-03.md"]


def test_daily_report_runs_one_at_a_time(ses: LocalSES, tmp_path: Path, daily: Cli) -> None:
    """While another run holds the folder's lock, a run exits 2 and touches nothing."""
    import fcntl

    folder = tmp_path / "reports"
    before = _earlier_reports(folder)
    with (folder / ".daily-report.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = daily(folder, "--resources", "identities", "--endpoint-url", ses.url)
    assert result.code == 2
    assert f"another run is using {folder}" in result.err
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert _files(folder) == sorted(before)
    assert ses.operation_calls == {}


def test_daily_report_needs_a_folder(
    daily_module: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --dir or ASYNCSES_REPORT_DIR the script stops with a usage error."""
    with pytest.raises(SystemExit) as stopped:
        daily_module.main([])
    assert stopped.value.code == 2
    assert "--dir is required" in capsys.readouterr().err
