"""The operator's features end to end: regions, profiles, findings, --fail-on, summary, diff,
progress and the scheduled report, through the CLI against the moto endpoint on loopback."""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]  # no boto3 stubs in the test extra
import orjson
import pytest

from asyncses.local import DEFAULT_ACCOUNT, LocalSES

from .helpers import REGION, ROOT, parse_ndjson, read_ndjson, run_cli

EU = "eu-west-1"
OTHER_ACCOUNT = "210987654321"
SCRIPT = ROOT / "scripts" / "daily-report"
SUMMARY_LINE = re.compile(
    r"^asyncses: (\d+) records, (\d+) errors, \d+ calls, \d+ retries, \d+ throttles, [\d.]+ s$"
)

ALL_FINDINGS = [
    "NOT_VERIFIED",
    "DKIM_NOT_VERIFIED",
    "DKIM_SIGNING_DISABLED",
    "SENDING_DISABLED",
    "MAIL_FROM_NOT_VERIFIED",
]


def _policy(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


PUBLIC = _policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ses:SendEmail"})
CONDITIONED = _policy(
    {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "ses:SendEmail",
        "Condition": {"StringEquals": {"aws:SourceAccount": OTHER_ACCOUNT}},
    }
)


def _clean(ses: LocalSES, region: str, name: str, **fields: Any) -> None:
    """An identity with every check passing, then ``fields`` set on top."""
    ses.set_identity(
        region,
        name,
        **{
            "verification_status": "SUCCESS",
            "dkim_status": "SUCCESS",
            "dkim_signing_enabled": True,
            "sending_enabled": True,
            "mail_from_domain": f"mail.{name}",
            "mail_from_status": "SUCCESS",
            **fields,
        },
    )


def _seed_findings(ses: LocalSES) -> dict[tuple[str, str], list[str]]:
    """Identities in two regions with known states; their expected findings by (region, name)."""
    _clean(ses, REGION, "clean.example.com")
    _clean(ses, REGION, "public.example.com", policies={"open": PUBLIC})
    _clean(ses, REGION, "conditioned.example.com", policies={"partner": CONDITIONED})
    _clean(
        ses,
        REGION,
        "broken.example.com",
        verification_status="PENDING",
        dkim_status="FAILED",
        dkim_signing_enabled=False,
        sending_enabled=False,
        mail_from_status="PENDING",
    )
    _clean(ses, EU, "eu.example.com", sending_enabled=False)
    return {
        (REGION, "clean.example.com"): [],
        (REGION, "public.example.com"): ["PUBLIC_POLICY"],
        (REGION, "conditioned.example.com"): [],
        (REGION, "broken.example.com"): ALL_FINDINGS,
        (EU, "eu.example.com"): ["SENDING_DISABLED"],
    }


def _by_item(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    return {(r["region"], r["IdentityName"]): r["findings"] for r in records}


def _summary_line(stderr: str) -> re.Match[str]:
    """The one end-of-run summary line, which must be the last line of stderr."""
    lines = stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    match = SUMMARY_LINE.match(lines[-1].strip())
    assert match, f"no summary line at the end of stderr: {stderr!r}"
    return match


# -- regions and profiles ------------------------------------------------------------------


@pytest.mark.parametrize(
    "region_args",
    [("--region", f"{REGION},{EU}"), ("--region", REGION, "--region", EU)],
    ids=["comma-list", "repeated"],
)
def test_regions_are_audited_together(
    ses: LocalSES, tmp_path: Path, region_args: tuple[str, ...]
) -> None:
    """Both regions are audited in one run; each record carries the region it was seeded in."""
    seeded = {REGION: set(ses.seed_identities(REGION, 12, prefix="use"))}
    seeded[EU] = set(ses.seed_identities(EU, 7, prefix="euw"))
    report = tmp_path / "report.ndjson"
    result = run_cli("identities", *region_args, "--endpoint-url", ses.url, "-o", str(report))
    assert result.returncode == 0, result.stderr
    records = read_ndjson(report)
    assert len(records) == 19
    found: dict[str, set[str]] = {REGION: set(), EU: set()}
    for record in records:
        found[record["region"]].add(record["IdentityName"])
        assert "account" not in record  # one profile: no account member
        assert record["error"] is None
    assert found == seeded
    assert _summary_line(result.stderr).group(1) == "19"


def _access_key(account_id: str) -> tuple[str, str]:
    """A moto IAM access key that moto maps to ``account_id`` (same process as the server)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    iam.create_user(REGION, "auditor")
    key = iam.create_access_key("auditor")
    return str(key.access_key_id), str(key.secret_access_key)


@pytest.mark.parametrize("mode", [(), ("--list-only",)], ids=["lookups", "list-only"])
def test_profiles_add_account_from_sts(
    ses: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: tuple[str, ...]
) -> None:
    """Two profiles in two accounts: every record carries the account STS names for its profile."""
    key_id, secret = _access_key(OTHER_ACCOUNT)
    main_names = ses.seed_identities(REGION, 5, prefix="main")
    other_names = ses.seed_identities(REGION, 3, prefix="other", account_id=OTHER_ACCOUNT)
    (tmp_path / "credentials").write_text(
        "[main]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        f"[other]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    )
    (tmp_path / "config").write_text(
        f"[profile main]\nregion = {REGION}\n[profile other]\nregion = {REGION}\n"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", ses.url)
    accounts = {
        profile: boto3.Session(profile_name=profile)
        .client("sts", endpoint_url=ses.url)
        .get_caller_identity()["Account"]
        for profile in ("main", "other")
    }
    assert accounts == {"main": DEFAULT_ACCOUNT, "other": OTHER_ACCOUNT}

    report = tmp_path / "report.ndjson"
    result = run_cli(
        "identities",
        "--profile",
        "main",
        "--profile",
        "other",
        "--endpoint-url",
        ses.url,
        "-o",
        str(report),
        *mode,
    )
    assert result.returncode == 0, result.stderr
    records = read_ndjson(report)
    assert sorted((r["account"], r["IdentityName"]) for r in records) == sorted(
        [(accounts["main"], name) for name in main_names]
        + [(accounts["other"], name) for name in other_names]
    )
    assert _summary_line(result.stderr).group(1) == str(len(records))


# -- findings and --fail-on ----------------------------------------------------------------


def test_findings_end_to_end(ses: LocalSES, tmp_path: Path) -> None:
    """Findings follow the backend's states in both regions, a public policy included."""
    expected = _seed_findings(ses)
    report = tmp_path / "report.ndjson"
    result = run_cli(
        "identities", "--region", f"{REGION},{EU}", "--endpoint-url", ses.url, "-o", str(report)
    )
    assert result.returncode == 0, result.stderr
    records = read_ndjson(report)
    assert _by_item(records) == expected
    public = next(r for r in records if r["IdentityName"] == "public.example.com")
    assert json.loads(public["Policies"]["open"])["Statement"][0]["Principal"] == {"AWS": "*"}


def test_list_only_findings_are_those_the_list_shows(ses: LocalSES) -> None:
    """With --list-only only NOT_VERIFIED and SENDING_DISABLED can appear."""
    expected = _seed_findings(ses)
    result = run_cli(
        "identities", "--list-only", "--region", f"{REGION},{EU}", "--endpoint-url", ses.url
    )
    assert result.returncode == 0, result.stderr
    listed = {"NOT_VERIFIED", "SENDING_DISABLED"}
    assert _by_item(parse_ndjson(result.stdout)) == {
        item: [code for code in codes if code in listed] for item, codes in expected.items()
    }


@pytest.mark.parametrize(
    ("codes", "exit_code"),
    [
        (["PUBLIC_POLICY"], 1),
        (["public_policy"], 1),
        (["MAIL_FROM_NOT_VERIFIED", "SENDING_DISABLED"], 1),
        (["DKIM_NOT_VERIFIED"], 0),
    ],
    ids=["named", "lower-case", "several", "absent"],
)
def test_fail_on_exit_code(ses: LocalSES, tmp_path: Path, codes: list[str], exit_code: int) -> None:
    """--fail-on exits 1 when a record has a named finding, 0 otherwise; the report is whole."""
    _clean(ses, REGION, "clean.example.com")
    _clean(ses, REGION, "public.example.com", policies={"open": PUBLIC})
    _clean(ses, EU, "eu.example.com", sending_enabled=False, mail_from_status="FAILED")
    report = tmp_path / "report.ndjson"
    fail_on = [arg for code in codes for arg in ("--fail-on", code)]
    result = run_cli(
        "identities",
        "--region",
        f"{REGION},{EU}",
        "--endpoint-url",
        ses.url,
        "-o",
        str(report),
        *fail_on,
    )
    assert result.returncode == exit_code, result.stderr
    assert len(read_ndjson(report)) == 3
    assert ("--fail-on" in result.stderr) == (exit_code == 1)


def test_fail_on_unknown_code_is_a_usage_error_before_any_call(tmp_path: Path) -> None:
    """An unknown --fail-on code exits 2 with one line on stderr, before any connection."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        report = tmp_path / "report.ndjson"
        result = run_cli(
            "identities", "--endpoint-url", url, "--fail-on", "NOT_A_CODE", "-o", str(report)
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert "NOT_A_CODE" in lines[0] and "PUBLIC_POLICY" in lines[0]
    assert not report.exists()


# -- summary -------------------------------------------------------------------------------


def _counts(records: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The summary's counts, computed here independently."""
    counts: dict[str, Counter[str]] = {
        name: Counter() for name in ("region", "VerificationStatus", "DkimAttributes.Status")
    }
    counts["findings"] = Counter()
    for record in records:
        counts["region"][record["region"]] += 1
        counts["VerificationStatus"][record["VerificationStatus"]] += 1
        if record.get("DkimAttributes"):
            counts["DkimAttributes.Status"][record["DkimAttributes"]["Status"]] += 1
        counts["findings"].update(record["findings"])
    return {name: dict(counter) for name, counter in counts.items()}


def test_summary_json_counts_match_the_report(ses: LocalSES, tmp_path: Path) -> None:
    """summary --format json counts what the report holds, per region, status and finding."""
    ses.seed_identities(REGION, 60, prefix="use")
    ses.seed_identities(EU, 25, prefix="euw", seed=7)
    _clean(ses, EU, "public.example.com", policies={"open": PUBLIC})
    report = tmp_path / "report.ndjson"
    audit = run_cli(
        "identities", "--region", f"{REGION},{EU}", "--endpoint-url", ses.url, "-o", str(report)
    )
    assert audit.returncode == 0, audit.stderr
    records = read_ndjson(report)

    result = run_cli("summary", str(report), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["records"] == len(records) == 86
    assert summary["errors"] == 0
    expected = _counts(records)
    assert len(expected["VerificationStatus"]) > 1 and len(expected["findings"]) > 2
    for name, counts in expected.items():
        assert summary["counts"][name] == counts, name
    assert summary["counts"]["findings"]["PUBLIC_POLICY"] == 1
    assert summary["counts"]["type"] == {"email_identity": 86}


def test_summary_text_and_markdown_render(ses: LocalSES, tmp_path: Path) -> None:
    """summary renders a plain table for people and Markdown tables for tickets."""
    expected = _seed_findings(ses)
    report = tmp_path / "report.ndjson"
    audit = run_cli(
        "identities", "--region", f"{REGION},{EU}", "--endpoint-url", ses.url, "-o", str(report)
    )
    assert audit.returncode == 0, audit.stderr

    text = run_cli("summary", str(report))
    assert text.returncode == 0, text.stderr
    assert "\x1b[" not in text.stdout  # no colour codes when piped
    assert f"{len(expected)} records, 0 errors" in text.stdout
    assert re.search(r"us-east-1\s+│\s+4\b", text.stdout), text.stdout
    assert re.search(r"PUBLIC_POLICY\s+│\s+1\b", text.stdout), text.stdout

    markdown = run_cli("summary", str(report), "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    lines = markdown.stdout.splitlines()
    assert lines[0] == "## report.ndjson"
    assert "| region | count |" in lines
    assert "| us-east-1 | 4 |" in lines and "| eu-west-1 | 1 |" in lines
    assert "| SENDING_DISABLED | 2 |" in lines
    assert f"**{len(expected)}** records, **0** errors" in markdown.stdout


def test_summary_counts_errors_and_types(tmp_path: Path) -> None:
    """Error records and other record types are counted; an empty report has every table."""
    report = tmp_path / "crafted.ndjson"
    error = {"code": "AccessDenied", "message": "no", "operation": "GetEmailIdentity"}
    rows: list[dict[str, Any]] = [
        {"type": "email_identity", "region": REGION, "IdentityName": "a", "findings": []},
        {"type": "email_identity", "region": EU, "IdentityName": "b", "error": error},
        {"type": "dedicated_ip_pool", "region": EU, "PoolName": "p", "ScalingMode": "MANAGED"},
    ]
    report.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    result = run_cli("summary", str(report), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["records"], summary["errors"]) == (3, 1)
    assert summary["counts"]["type"] == {"email_identity": 2, "dedicated_ip_pool": 1}
    assert summary["counts"]["region"] == {EU: 2, REGION: 1}
    assert summary["counts"]["error.code"] == {"AccessDenied": 1}

    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    result = run_cli("summary", str(empty), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["records"] == summary["errors"] == 0
    for name in ("region", "VerificationStatus", "DkimAttributes.Status", "findings"):
        assert summary["counts"][name] == {}


# -- diff ----------------------------------------------------------------------------------


def _identity(name: str, region: str = REGION, **fields: Any) -> dict[str, Any]:
    return {
        "type": "email_identity",
        "region": region,
        "IdentityName": name,
        "VerificationStatus": "SUCCESS",
        "DkimAttributes": {"SigningEnabled": True, "Status": "SUCCESS"},
        "Policies": {},
        "findings": [],
        "error": None,
        **fields,
    }


def _write(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path


def _sorted(changes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(changes, key=lambda c: (c["change"], c["region"], c["key"]))


def test_diff_added_removed_changed(tmp_path: Path) -> None:
    """diff finds added, removed and changed items by (type, region, name), and only those."""
    old = _write(
        tmp_path / "old.ndjson",
        [
            _identity("same.example.com"),
            _identity("same.example.com", EU),
            _identity("changed.example.com"),
            _identity("removed.example.com"),
        ],
    )
    new = _write(
        tmp_path / "new.ndjson",
        [
            _identity("added.example.com", EU),
            _identity(
                "changed.example.com",
                VerificationStatus="FAILED",
                DkimAttributes={"SigningEnabled": False, "Status": "SUCCESS"},
                Policies={"open": PUBLIC},
                findings=["NOT_VERIFIED", "DKIM_SIGNING_DISABLED", "PUBLIC_POLICY"],
            ),
            _identity("same.example.com", EU),
            _identity("same.example.com"),
        ],
    )
    result = run_cli("diff", str(old), str(new))
    assert result.returncode == 0, result.stderr
    head = {"type": "email_identity"}
    assert _sorted(parse_ndjson(result.stdout)) == [
        {"change": "added", **head, "region": EU, "key": "added.example.com"},
        {
            "change": "changed",
            **head,
            "region": REGION,
            "key": "changed.example.com",
            "changes": {
                "DkimAttributes.SigningEnabled": {"old": True, "new": False},
                "Policies.open": {"old": None, "new": PUBLIC},
                "VerificationStatus": {"old": "SUCCESS", "new": "FAILED"},
                "findings": {
                    "old": [],
                    "new": ["NOT_VERIFIED", "DKIM_SIGNING_DISABLED", "PUBLIC_POLICY"],
                },
            },
        },
        {"change": "removed", **head, "region": REGION, "key": "removed.example.com"},
    ]

    markdown = run_cli("diff", str(old), str(new), "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert "1 added, 1 removed, 1 changed" in markdown.stdout
    row = next(line for line in markdown.stdout.splitlines() if "changed.example.com" in line)
    assert "VerificationStatus: SUCCESS → FAILED" in row
    assert "| account |" not in markdown.stdout  # one account: no account column


def test_diff_keys_by_account(tmp_path: Path) -> None:
    """The same name in another account is another item; Markdown then shows the account."""
    old = _write(tmp_path / "old.ndjson", [_identity("x.example.com", account=DEFAULT_ACCOUNT)])
    new = _write(tmp_path / "new.ndjson", [_identity("x.example.com", account=OTHER_ACCOUNT)])
    result = run_cli("diff", str(old), str(new))
    assert result.returncode == 0, result.stderr
    assert sorted((c["change"], c["account"]) for c in parse_ndjson(result.stdout)) == [
        ("added", OTHER_ACCOUNT),
        ("removed", DEFAULT_ACCOUNT),
    ]
    markdown = run_cli("diff", str(old), str(new), "--format", "markdown")
    assert "| account |" in markdown.stdout and OTHER_ACCOUNT in markdown.stdout


def test_diff_failed_lookup_is_not_a_change(tmp_path: Path) -> None:
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
    result = run_cli("diff", str(old), str(new))
    assert result.returncode == 0, result.stderr
    assert parse_ndjson(result.stdout) == [
        {
            "change": "changed",
            "type": "email_identity",
            "region": REGION,
            "key": "b.example.com",
            "changes": {"VerificationStatus": {"old": "SUCCESS", "new": "FAILED"}},
        }
    ]


def test_diff_of_a_foreign_file_is_a_one_line_error(tmp_path: Path) -> None:
    """A file of JSON objects that are not asyncses records is refused with exit 2, no traceback."""
    old = _write(tmp_path / "old.ndjson", [{"hello": "world"}])
    new = _write(tmp_path / "new.ndjson", [_identity("a.example.com")])
    result = run_cli("diff", str(old), str(new))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "not an asyncses record" in result.stderr


# -- progress ------------------------------------------------------------------------------


def test_no_progress_when_stderr_is_not_a_terminal(ses: LocalSES) -> None:
    """With stderr on a pipe there is no bar, only the final summary line."""
    ses.seed_identities(REGION, 120)
    result = run_cli("identities", "--region", REGION, "--endpoint-url", ses.url)
    assert result.returncode == 0, result.stderr
    assert len(parse_ndjson(result.stdout)) == 120
    assert "\x1b[" not in result.stderr and "━" not in result.stderr
    assert "req/s" not in result.stderr
    assert result.stderr.count("\n") == 1
    match = _summary_line(result.stderr)
    assert match.groups() == ("120", "0")


def _run_on_terminal(*args: str) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (120x40); its exit code and stderr."""
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with subprocess.Popen(
        [sys.executable, "-m", "asyncses", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=ROOT,
    ) as process:
        os.close(slave)
        output = bytearray()
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        os.close(master)
    return process.wait(timeout=60), output.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_progress_bar_on_a_terminal(ses: LocalSES, tmp_path: Path) -> None:
    """On a terminal a live bar shows done/total and rates; --no-progress turns it off."""
    ses.seed_identities(REGION, 150)
    report = tmp_path / "report.ndjson"
    common = ("identities", "--region", REGION, "--endpoint-url", ses.url, "-o", str(report))
    code, shown = _run_on_terminal(*common, "--concurrency", "8")
    assert code == 0, shown
    assert "identities" in shown and "━" in shown
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    # done/total: the total is known as soon as the listing's last page is in
    assert re.search(r"\b[1-9]\d*/150\b", plain), plain
    assert "req/s" in plain and "throttles" in plain and "retries" in plain
    assert _summary_line(plain).group(1) == "150"

    code, hidden = _run_on_terminal(*common, "--no-progress")
    assert code == 0, hidden
    assert "━" not in hidden and "req/s" not in hidden and "\x1b[" not in hidden
    assert _summary_line(hidden).group(1) == "150"
    assert len(read_ndjson(report)) == 150


# -- the scheduled report ------------------------------------------------------------------


def _daily(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_daily_report_end_to_end(ses: LocalSES, tmp_path: Path) -> None:
    """Dated report + Markdown, a diff against the previous run, --fail-on, pruning to --keep."""
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")
    _clean(ses, REGION, "stays.example.com")
    _clean(ses, REGION, "goes.example.com")
    _clean(ses, EU, "turns.example.com")
    folder = tmp_path / "reports"
    common = ("--region", f"{REGION},{EU}", "--endpoint-url", ses.url)

    first = _daily(folder, *common, "--date", "2024-05-01")
    assert first.returncode == 0, first.stderr
    assert _files(folder) == ["identities-2024-05-01.md", "identities-2024-05-01.ndjson"]
    assert len(read_ndjson(folder / "identities-2024-05-01.ndjson")) == 3
    markdown = (folder / "identities-2024-05-01.md").read_text()
    assert markdown.startswith("# SES identities audit 2024-05-01\n")
    assert "No previous report" in markdown
    assert "| us-east-1 | 2 |" in markdown  # the summary's region table

    ses.delete_identity(REGION, "goes.example.com")
    _clean(ses, REGION, "comes.example.com")
    _clean(ses, EU, "turns.example.com", policies={"open": PUBLIC})
    second = _daily(folder, *common, "--date", "2024-05-02", "--fail-on", "PUBLIC_POLICY")
    assert second.returncode == 1, second.stderr  # the audit's exit code
    assert len(_files(folder)) == 4
    records = read_ndjson(folder / "identities-2024-05-02.ndjson")
    assert {r["IdentityName"] for r in records} == {
        "stays.example.com",
        "comes.example.com",
        "turns.example.com",
    }
    markdown = (folder / "identities-2024-05-02.md").read_text()
    assert "Changes since `identities-2024-05-01.ndjson`" in markdown
    assert "1 added, 1 removed, 1 changed" in markdown
    lines = markdown.splitlines()
    assert any("added" in line and "comes.example.com" in line for line in lines)
    assert any("removed" in line and "goes.example.com" in line for line in lines)
    assert any("| eu-west-1 | turns.example.com | PUBLIC_POLICY |" in line for line in lines)
    assert "audit exit code 1" in markdown

    (folder / "notes.txt").write_text("not a report")
    third = _daily(folder, *common, "--date", "2024-05-03", "--keep", "1")
    assert third.returncode == 0, third.stderr
    assert _files(folder) == [
        "identities-2024-05-03.md",
        "identities-2024-05-03.ndjson",
        "notes.txt",
    ]
    assert (
        "Changes since `identities-2024-05-02.ndjson`"
        in (folder / "identities-2024-05-03.md").read_text()
    )


def test_daily_report_same_day_replaces_and_compares(ses: LocalSES, tmp_path: Path) -> None:
    """A second run on the same day replaces that day's report and diffs against it."""
    _clean(ses, REGION, "a.example.com")
    folder = tmp_path / "reports"
    common = ("--region", REGION, "--endpoint-url", ses.url, "--date", "2024-05-01")
    assert _daily(folder, *common).returncode == 0
    _clean(ses, REGION, "b.example.com")
    again = _daily(folder, *common)
    assert again.returncode == 0, again.stderr
    assert _files(folder) == ["identities-2024-05-01.md", "identities-2024-05-01.ndjson"]
    assert len(read_ndjson(folder / "identities-2024-05-01.ndjson")) == 2
    markdown = (folder / "identities-2024-05-01.md").read_text()
    assert "the earlier run of the day" in markdown
    assert "1 added, 0 removed, 0 changed" in markdown


def test_daily_report_refused_audit_writes_nothing(ses: LocalSES, tmp_path: Path) -> None:
    """A refused audit (usage error) exits 2 and leaves the folder's reports untouched."""
    folder = tmp_path / "reports"
    folder.mkdir()
    before = {
        "identities-2024-05-01.ndjson": orjson.dumps(_identity("a.example.com")) + b"\n",
        "identities-2024-05-01.md": b"# SES identities audit 2024-05-01\n",
        "identities-2024-05-02.ndjson": orjson.dumps(_identity("b.example.com")) + b"\n",
    }
    for name, data in before.items():
        (folder / name).write_bytes(data)
    refused = _daily(folder, "--region", "not a region", "--endpoint-url", ses.url, "--keep", "1")
    assert refused.returncode == 2
    assert "invalid region" in refused.stderr
    assert {name: (folder / name).read_bytes() for name in _files(folder)} == before
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
