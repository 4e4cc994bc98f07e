"""Report files (asyncses/reports/files.py) through the command line: run header and end line,
the partial file and its lock, --resume and what it refuses, write failures, cut-short reports.

Most runs are in-process (``asyncses.cli.main``) against the local endpoint; runs that must be
watched from outside, or need their own resource limits, are subprocesses.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from asyncses.local import LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, ROOT, Cli, read_lines, read_ndjson, run_cli

FAST = ("--rate", "1000", "--no-progress")  # no cautious start against the local endpoint


def partial_of(report: Path) -> Path:
    return report.with_name(f".{report.name}.partial")


def identities(ses: LocalSES, report: Path | str, *extra: str, url: str | None = None) -> list[str]:
    """The arguments of an identities audit of the local endpoint into ``report``."""
    return ["identities", "--endpoint-url", url or ses.url, "-o", str(report), *FAST, *extra]


def keys(report: Path) -> list[str]:
    return [r["IdentityName"] for r in read_ndjson(report)]


def lookups(ses: LocalSES) -> int:
    return ses.operation_calls.get("GetEmailIdentity", 0)


def fail_lookups_of(ses: LocalSES, names: set[str]) -> None:
    """GetEmailIdentity of ``names`` answers InternalFailure (500) until the hook is removed."""

    def hook(_account: str, _region: str, params: dict[str, Any]) -> None:
        if params.get("EmailIdentity") in names:
            raise RuntimeError("injected")

    ses.before("GetEmailIdentity", hook)


# -- run header and end line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "record_type", "options"),
    [
        ("identities", "email_identity", {"list_only": False}),
        ("pools", "dedicated_ip_pool", {"with_ips": False}),
        ("import-jobs", "import_job", {"destination_type": None, "details": False}),
    ],
)
def test_every_report_has_a_run_header_and_an_end_line(
    ses: LocalSES,
    tmp_path: Path,
    cli: Cli,
    command: str,
    record_type: str,
    options: dict[str, Any],
) -> None:
    """The first line says what run made the report; the last one that it finished, and counts."""
    ses.seed_identities(REGION, 5)
    ses.seed_pools(REGION, 3)
    ses.seed_import_jobs(REGION, 4)
    report = tmp_path / "report.ndjson"
    result = cli(command, "--endpoint-url", ses.url, "-o", str(report), *FAST)
    assert result.code == 0, result.err
    lines = read_lines(report)
    header, records, end = lines[0], lines[1:-1], lines[-1]
    assert header["type"] == "run"
    assert header["record_type"] == record_type
    assert header["options"] == options
    assert header["regions"] == [REGION]
    assert header["endpoint"] == ses.url
    assert header["asyncses"] == __import__("asyncses").__version__
    assert {r["type"] for r in records} == {record_type}
    assert len(records) in (5, 3, 4)
    assert end["type"] == "run_end"
    assert (end["records"], end["errors"]) == (len(records), 0)
    assert not partial_of(report).exists()


def test_stdout_report_has_header_and_end_line_too(ses: LocalSES, cli: Cli) -> None:
    """Written to standard output, the report carries the same first and last lines."""
    ses.seed_identities(REGION, 3)
    result = cli("identities", "--endpoint-url", ses.url, *FAST)
    assert result.code == 0, result.err
    lines = [orjson.loads(line) for line in result.out.splitlines()]
    assert [line["type"] for line in lines] == ["run", *["email_identity"] * 3, "run_end"]
    assert lines[-1]["records"] == 3


def test_error_records_are_counted_in_the_end_line(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """The end line counts the error records; the exit code says there were some."""
    names = ses.seed_identities(REGION, 5)
    fail_lookups_of(ses, {names[1]})
    report = tmp_path / "report.ndjson"
    result = cli(*identities(ses, report, "--max-attempts", "1"))
    assert result.code == 1
    end = read_lines(report)[-1]
    assert (end["type"], end["records"], end["errors"]) == ("run_end", 5, 1)


# -- the partial file and its lock ---------------------------------------------------------


def slow_run(proxy: FaultProxy, report: Path) -> subprocess.Popen[str]:
    """An audit through ``proxy`` (slow lookups, one at a time) in a child process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asyncses",
            "identities",
            "--endpoint-url",
            proxy.url,
            "-o",
            str(report),
            "--concurrency",
            "1",
            *FAST,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def slow_proxy(ses: LocalSES) -> Iterator[FaultProxy]:
    """A proxy that answers each lookup after a quarter of a second."""
    faults = Faults(latency=0.25, match=r"^GET /v2/email/identities/.")
    with FaultProxy(ses.url, faults) as proxy:
        yield proxy


def test_records_go_to_the_partial_file_until_the_end(
    ses: LocalSES, tmp_path: Path, slow_proxy: FaultProxy
) -> None:
    """While a run goes on the old report stays as it was; the partial file takes its place."""
    ses.seed_identities(REGION, 6)
    report = tmp_path / "report.ndjson"
    report.write_bytes(b"the old report\n")
    process = slow_run(slow_proxy, report)
    try:
        assert slow_proxy.stats.wait_for(lambda s: s.forwarded >= 3, timeout=30)
        assert partial_of(report).exists()
        assert report.read_bytes() == b"the old report\n"
        assert slow_proxy.stats.wait_for(lambda s: s.forwarded >= 6, timeout=30)
        assert report.read_bytes() == b"the old report\n"
    finally:
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert not partial_of(report).exists()
    assert len(read_ndjson(report)) == 6
    assert read_lines(report)[-1]["type"] == "run_end"


def test_a_record_reaches_the_partial_file_within_seconds(ses: LocalSES, tmp_path: Path) -> None:
    """A fetched record reaches the partial file within seconds, however slow the next one."""
    import threading
    import time

    first, second = "a-fast.example.com", "b-slow.example.com"
    ses.set_identity(REGION, first)
    ses.set_identity(REGION, second)
    slow_started = threading.Event()

    def slow(_account: str, _region: str, params: dict[str, Any]) -> None:
        if params.get("EmailIdentity") == second:
            slow_started.set()  # the first record is done and handed on
            time.sleep(5)

    ses.before("GetEmailIdentity", slow)
    report = tmp_path / "report.ndjson"
    args = identities(ses, report, "--concurrency", "1")
    with subprocess.Popen(
        [sys.executable, "-m", "asyncses", *args], cwd=ROOT, stderr=subprocess.PIPE
    ) as process:
        try:
            assert slow_started.wait(timeout=30)
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline and first.encode() not in _read(partial_of(report)):
                time.sleep(0.1)
            held = _read(partial_of(report))
        finally:
            process.kill()
    assert first.encode() in held


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def test_a_second_run_is_refused_while_one_holds_the_lock(
    ses: LocalSES, tmp_path: Path, slow_proxy: FaultProxy, cli: Cli
) -> None:
    """Another run on the same report exits 2 and disturbs neither the running one nor its file."""
    ses.seed_identities(REGION, 6)
    report = tmp_path / "report.ndjson"
    process = slow_run(slow_proxy, report)
    try:
        assert slow_proxy.stats.wait_for(lambda s: s.forwarded >= 2, timeout=30)
        for extra in ((), ("--resume",)):
            second = cli(*identities(ses, report, *extra))
            assert second.code == 2, second.err
            assert "another run is writing" in second.err
            assert not report.exists()
    finally:
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert sorted(keys(report)) == sorted(ses_names(ses))
    assert read_lines(report)[-1]["records"] == 6


def ses_names(ses: LocalSES) -> list[str]:
    import boto3  # type: ignore[import-untyped]  # no boto3 stubs in the test extra

    client = boto3.client("sesv2", endpoint_url=ses.url, region_name=REGION)
    return [e["IdentityName"] for e in client.list_email_identities()["EmailIdentities"]]


def test_a_lock_held_elsewhere_is_respected(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """The lock is the partial file's: whoever holds it, a run does not write over it."""
    ses.seed_identities(REGION, 2)
    report = tmp_path / "report.ndjson"
    partial = partial_of(report)
    partial.write_bytes(b'{"type":"run"}\n')
    with open(partial, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = cli(*identities(ses, report))
    assert result.code == 2
    assert partial.read_bytes() == b'{"type":"run"}\n'
    assert not report.exists()


# -- resume --------------------------------------------------------------------------------


def finished_report(ses: LocalSES, tmp_path: Path, cli: Cli, count: int = 8) -> Path:
    ses.seed_identities(REGION, count)
    report = tmp_path / "report.ndjson"
    result = cli(*identities(ses, report))
    assert result.code == 0, result.err
    return report


def test_resume_continues_a_killed_runs_partial_file(
    ses: LocalSES, tmp_path: Path, cli: Cli
) -> None:
    """A killed run's partial file (torn last line) is finished: kept records stay, unfetched."""
    report = finished_report(ses, tmp_path, cli)
    lines = report.read_bytes().splitlines(keepends=True)
    header, records = lines[0], lines[1:-1]
    kept = [orjson.loads(line) for line in records[:3]]
    kept[0]["Tags"] = [{"Key": "marker", "Value": "from the killed run"}]
    report.unlink()
    partial_of(report).write_bytes(
        header + b"".join(orjson.dumps(r) + b"\n" for r in kept) + records[3][:50]
    )
    before = lookups(ses)
    result = cli(*identities(ses, report, "--resume"))
    assert result.code == 0, result.err
    assert lookups(ses) - before == 5  # the torn record's item is fetched again
    names = keys(report)
    assert sorted(names) == sorted(ses_names(ses)) and len(names) == 8
    lines_after = read_lines(report)
    assert lines_after[0]["type"] == "run" and lines_after[-1]["type"] == "run_end"
    assert lines_after[-1]["records"] == 8
    marked = [r for r in read_ndjson(report) if r.get("Tags") and r["Tags"][0]["Key"] == "marker"]
    assert [r["IdentityName"] for r in marked] == [kept[0]["IdentityName"]]
    assert not partial_of(report).exists()
    assert "3 kept from the resumed report" in result.err


def test_a_fresh_run_over_a_partial_file_says_it_replaces_it(
    ses: LocalSES, tmp_path: Path, cli: Cli
) -> None:
    """Without --resume, an interrupted run's partial file is replaced, and a warning says
    so (and that --resume would have continued it); a run with no partial file is silent."""
    report = finished_report(ses, tmp_path, cli)
    lines = report.read_bytes().splitlines(keepends=True)
    partial_of(report).write_bytes(b"".join(lines[:3]))
    result = cli(*identities(ses, report))
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "--resume" in warnings[0], result.err
    assert partial_of(report).name in warnings[0]
    assert not partial_of(report).exists()
    again = cli(*identities(ses, report))
    assert again.code == 0 and "warning" not in again.err, again.err


def test_resume_keeps_a_last_record_that_lacks_only_its_newline(
    ses: LocalSES, tmp_path: Path, cli: Cli
) -> None:
    """A killed run's last record cut just before its newline is kept or fetched, never lost."""
    report = finished_report(ses, tmp_path, cli)
    lines = report.read_bytes().splitlines(keepends=True)
    report.unlink()
    partial_of(report).write_bytes(b"".join(lines[:4]) + lines[4].rstrip(b"\n"))
    result = cli(*identities(ses, report, "--resume"))
    assert result.code == 0, result.err
    assert sorted(keys(report)) == sorted(ses_names(ses))


def test_resume_of_a_finished_report_fetches_only_its_errors(
    ses: LocalSES, tmp_path: Path, cli: Cli
) -> None:
    """Records fetched without error are kept; only the error records are fetched again."""
    names = ses.seed_identities(REGION, 8)
    failing = {names[2], names[5]}
    fail_lookups_of(ses, failing)
    report = tmp_path / "report.ndjson"
    first = cli(*identities(ses, report, "--max-attempts", "1"))
    assert first.code == 1
    assert {r["IdentityName"] for r in read_ndjson(report) if r["error"]} == failing
    ses.before("GetEmailIdentity", None)
    before = lookups(ses)
    again = cli(*identities(ses, report, "--resume"))
    assert again.code == 0, again.err
    assert lookups(ses) - before == 2
    records = read_ndjson(report)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None for r in records)
    assert read_lines(report)[-1] == {**read_lines(report)[-1], "records": 8, "errors": 0}


@pytest.mark.parametrize("source", ["report", "partial"])
def test_resume_drops_items_no_longer_listed(
    ses: LocalSES, tmp_path: Path, cli: Cli, source: str
) -> None:
    """An item kept from the earlier run that the listing no longer shows is left out."""
    report = finished_report(ses, tmp_path, cli)
    names = keys(report)
    if source == "partial":
        lines = report.read_bytes().splitlines(keepends=True)
        partial_of(report).write_bytes(b"".join(lines[:6]))  # header and five records
        report.unlink()
    gone = names[1]
    ses.delete_identity(REGION, gone)
    result = cli(*identities(ses, report, "--resume"))
    assert result.code == 0, result.err
    assert sorted(keys(report)) == sorted(n for n in names if n != gone)
    assert read_lines(report)[-1]["records"] == 7


def test_resume_gives_a_refetched_address_its_kept_domains_dkim(
    ses: LocalSES, tmp_path: Path, cli: Cli
) -> None:
    """An address fetched again on resume takes its DKIM from its domain's kept record."""
    ses.set_identity(REGION, "news@pending.example")  # listed before its domain
    ses.set_identity(REGION, "pending.example", dkim_status="PENDING", dkim_signing_enabled=True)
    ses.set_identity(REGION, "other.example")
    fail_lookups_of(ses, {"news@pending.example"})
    report = tmp_path / "report.ndjson"
    assert cli(*identities(ses, report, "--max-attempts", "1", "--page-size", "1")).code == 1
    ses.before("GetEmailIdentity", None)
    before = lookups(ses)
    result = cli(*identities(ses, report, "--resume", "--page-size", "1"))
    assert result.code == 0, result.err
    assert lookups(ses) - before == 1  # the domain was kept, not fetched again
    records = {r["IdentityName"]: r for r in read_ndjson(report)}
    address = records["news@pending.example"]
    assert address["error"] is None
    assert address["findings"] == ["DKIM_NOT_VERIFIED"]
    assert address["findings_detail"] == {"DKIM_NOT_VERIFIED": {"domain": "pending.example"}}


def test_resume_without_anything_to_resume_is_a_plain_run(
    ses: LocalSES, tmp_path: Path, cli: Cli
) -> None:
    """--resume with no report and no partial file writes the report from scratch."""
    ses.seed_identities(REGION, 3)
    report = tmp_path / "report.ndjson"
    result = cli(*identities(ses, report, "--resume"))
    assert result.code == 0, result.err
    assert len(keys(report)) == 3


REFUSED = ["other-record-type", "list-only", "other-region", "other-endpoint", "no-header"]


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("source", ["report", "partial"])
def test_resume_refuses_a_report_of_another_kind_of_run(
    ses: LocalSES, tmp_path: Path, cli: Cli, case: str, source: str
) -> None:
    """A header that does not match this run (or none) is refused: exit 2, files untouched."""
    ses.seed_identities(REGION, 3)
    ses.seed_pools(REGION, 2)
    report = tmp_path / "report.ndjson"
    made = {
        "other-record-type": ["pools", "--endpoint-url", ses.url, "-o", str(report), *FAST],
        "list-only": identities(ses, report, "--list-only"),
        "other-region": identities(ses, report, "--region", "eu-west-1"),
        "other-endpoint": identities(ses, report, url=ses.url.replace("127.0.0.1", "localhost")),
        "no-header": identities(ses, report),
    }[case]
    assert cli(*made).code == 0
    if case == "no-header":
        report.write_bytes(b"".join(report.read_bytes().splitlines(keepends=True)[1:-1]))
    if source == "partial":
        report.rename(partial_of(report))
        report.write_bytes(b"a finished report\n")
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    before = lookups(ses)
    result = cli(*identities(ses, report, "--resume", "--region", REGION))
    assert result.code == 2, result.err
    assert result.err.startswith("asyncses: error: cannot resume")
    assert len(result.err.splitlines()) == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files
    assert lookups(ses) == before


def test_resume_names_what_differs(ses: LocalSES, tmp_path: Path, cli: Cli) -> None:
    """The refusal says which part of the header differs, and how."""
    ses.seed_identities(REGION, 1)
    report = tmp_path / "report.ndjson"
    assert cli(*identities(ses, report, "--list-only")).code == 0
    result = cli(*identities(ses, report, "--resume"))
    assert result.code == 2
    assert 'options {"list_only":true} in the report, {"list_only":false} in this run' in result.err


# -- write failures ------------------------------------------------------------------------


def big_identities(ses: LocalSES, count: int) -> None:
    """Identities whose records are about 12 KiB each (a large policy document)."""
    for i in range(count):
        ses.set_identity(REGION, f"big-{i}.example.com", policies={"big": "x" * 12_000})


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (mounting needs root; skipped otherwise)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a 64 KiB tmpfs: {mounted.stderr.strip() or 'not root'}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_leaves_the_previous_report(ses: LocalSES, tiny_fs: Path, cli: Cli) -> None:
    """A full disk exits 3 naming the file; the previous report stays byte for byte, no partial."""
    ses.seed_identities(REGION, 2)
    report = tiny_fs / "report.ndjson"
    assert cli(*identities(ses, report)).code == 0
    previous = report.read_bytes()
    big_identities(ses, 8)  # ~100 KiB of records on a 64 KiB disk
    result = cli(*identities(ses, report))
    assert result.code == 3, result.err
    assert "No space left on device" in result.err and str(report) in result.err
    assert report.read_bytes() == previous
    assert sorted(p.name for p in tiny_fs.iterdir()) == ["report.ndjson"]


def test_file_size_limit_leaves_the_previous_report(ses: LocalSES, tmp_path: Path) -> None:
    """A write refused by the system (RLIMIT_FSIZE) exits 3; nothing but the old report remains."""
    ses.seed_identities(REGION, 2)
    report = tmp_path / "report.ndjson"
    assert run_cli(*identities(ses, report)).returncode == 0
    previous = report.read_bytes()
    big_identities(ses, 4)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    result = run_cli(*identities(ses, report), preexec_fn=limit)
    assert result.returncode == 3, result.stderr
    assert "File too large" in result.stderr
    assert report.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.ndjson"]


@pytest.fixture
def full_device(tmp_path: Path) -> Path:
    """A device like /dev/full (writes fail with ENOSPC): our own node as root, else /dev/full."""
    if os.geteuid() != 0:
        return Path("/dev/full")
    device = tmp_path / "full"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    return device


def test_a_device_that_refuses_writes_exits_3(ses: LocalSES, full_device: Path, cli: Cli) -> None:
    """``-o /dev/full`` exits 3, and the device is written to, not replaced by a file."""
    ses.seed_identities(REGION, 3)
    result = cli(*identities(ses, full_device))
    assert result.code == 3, result.err
    assert "No space left on device" in result.err
    assert stat.S_ISCHR(os.stat(full_device).st_mode)
    assert not partial_of(full_device).exists()


def test_resume_into_a_device_is_refused(ses: LocalSES, cli: Cli) -> None:
    """--resume needs a report file; a device is refused as a usage error."""
    ses.seed_identities(REGION, 1)
    result = cli(*identities(ses, "/dev/null", "--resume"))
    assert result.code == 2
    assert "not a regular file" in result.err


# -- reading reports that were cut short ---------------------------------------------------


@pytest.mark.parametrize(
    ("cut", "warning", "counted"),
    [
        ("none", None, 8),
        ("end-line", "no end line", 8),
        ("torn", "the last line is cut short (ignored)", 7),
    ],
)
def test_summary_warns_about_a_cut_short_report(
    ses: LocalSES, tmp_path: Path, cli: Cli, cut: str, warning: str | None, counted: int
) -> None:
    """summary counts what a cut-short report holds and says on stderr that it was cut short."""
    report = finished_report(ses, tmp_path, cli)
    lines = report.read_bytes().splitlines(keepends=True)
    if cut == "end-line":
        report.write_bytes(b"".join(lines[:-1]))
    elif cut == "torn":
        report.write_bytes(b"".join(lines[:-2]) + lines[-2][:60])
    result = cli("summary", str(report), "--format", "json")
    assert result.code == 0, result.err
    assert orjson.loads(result.out)["records"] == counted
    if warning is None:
        assert result.err == ""
    else:
        assert result.err.startswith("asyncses: warning: report.ndjson: ")
        assert warning in result.err
        assert orjson.loads(result.out)["warnings"] == [result.err.split("warning: ", 1)[1].strip()]
