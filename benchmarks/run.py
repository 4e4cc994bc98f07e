"""Benchmark asyncses against aioboto3 baselines on a lean local SES v2 endpoint.

One command runs everything, on one machine, in one run::

    python -m benchmarks.run                # every benchmark below (~30 min)
    python -m benchmarks.run goodput        # 2, 20 and 150 req/s, every client
    python -m benchmarks.run follow         # the quota changes mid-run; --rate stays fixed
    python -m benchmarks.run cpu            # client CPU per lookup, unlimited endpoint
    python -m benchmarks.run memory         # peak RSS, 2,000 vs 20,000 identities
    python -m benchmarks.run org            # 20 accounts x 3 regions vs one unit alone
    python -m benchmarks.run apply          # 3,000 changes behind a 20 req/s write quota
    python -m benchmarks.run suppressions   # peak RSS, 10,000 vs 1,000,000 addresses
    python -m benchmarks.run --quick        # small versions of everything, no targets

The endpoint (:mod:`benchmarks.lean_endpoint`) runs in its own process. Every client runs in
a fresh process, reaped with ``os.wait4``: its wall time runs from spawn to exit
(interpreter start and imports included), its CPU is user + system of the process and the
children it reaped. Every client writes an NDJSON report (asyncses its own, the baselines of
:mod:`benchmarks.baselines` the same shape), counted the same way: records delivered
(distinct identities with ``"error": null``), error records, the ``run_end`` line. What the
endpoint saw (requests, 200s, 429s, a per-second timeline) comes from its ``/_reset``.

Each target prints a PASS/FAIL line; the command exits 1 when one fails. ``--json FILE``
writes every result, ``--save`` the text output to ``benchmarks/RESULTS.txt``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.lean_endpoint import (
    EndpointConfig,
    EndpointProcess,
    Schedule,
    account_id,
    account_of_key,
    format_schedule,
    suppressed_index,
)

ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS: Final = Path(__file__).resolve().parent / "RESULTS.txt"
REGION: Final = "us-east-1"

CLIENTS: Final = ("asyncses", "adaptive", "naive", "threads", "sequential")
LABELS: Final = {
    "asyncses": "asyncses",
    "adaptive": "aioboto3 adaptive",
    "naive": "aioboto3 naive",
    "threads": "boto3 threads",
    "sequential": "boto3 sequential",
}
DESCRIPTIONS: Final = {
    "asyncses": "the CLI with default flags: python -m asyncses identities --region R "
    "--endpoint-url URL -o FILE --no-progress",
    "adaptive": 'aioboto3, Semaphore + gather, AioConfig(retries={"mode": "adaptive", '
    '"max_attempts": 10})',
    "naive": "aioboto3, Semaphore + gather, botocore defaults (legacy retries, 5 attempts)",
    "threads": "boto3, ThreadPoolExecutor, botocore defaults",
    "sequential": "boto3, one call at a time, botocore defaults",
}
# What a process of each client imports before its first request (its startup).
STARTUP_IMPORTS: Final = {
    # asyncses runs on uvloop when it is installed, and imports it then.
    "asyncses": "import asyncses.cli, aioboto3"
    + (", uvloop" if importlib.util.find_spec("uvloop") is not None else ""),
    "adaptive": "import aioboto3",
    "naive": "import aioboto3",
    "threads": "import boto3",
    "sequential": "import boto3",
}

# -- the targets of the "Quota-first engine" issue ---------------------------------------------
BURST: Final = 5
GOODPUT_RATES: Final = (2.0, 20.0, 150.0)
GOODPUT_SECONDS: Final = 75.0  # identities = rate x this: 150, 1,500, 11,250
GOODPUT_SHARE: Final = 0.93
FOLLOW_LIMIT_S: Final = 30.0
FOLLOW_WINDOW_S: Final = 5
FOLLOW_UP_SHARE: Final = 0.90  # a window at >= 90% of the higher quota
FOLLOW_DOWN_SHARE: Final = 0.03  # a window with <= 3% of its requests throttled
FIXED_RATE: Final = 20.0
FIXED_QUOTA: Final = 10.0
FIXED_TOLERANCE: Final = 0.10
CPU_RATIO: Final = 1.10
RSS_RATIO: Final = 1.25
# An organization: every account x region at its own quota, as fast as one unit alone.
ORG_REGIONS: Final = ("us-east-1", "eu-west-1", "ap-southeast-2")
ORG_ROLE: Final = "AsyncsesAudit"
ORG_RATE: Final = 20.0
ORG_WALL_RATIO: Final = 1.2  # wall time of every unit <= 1.2 x that of one unit alone
ORG_THROTTLE: Final = 0.03  # no unit's throttled share above the single-unit target
# Bulk changes: the write quota is the bound; reads have a higher one.
APPLY_ACTION: Final = ("set-feedback-forwarding", "off")
APPLY_READ_RATE: Final = 50.0
APPLY_WRITE_RATE: Final = 20.0
APPLY_THROTTLE: Final = 0.03


def throttle_limit(rate: float) -> float:
    """The most throttled share of requests allowed at ``rate``: 5% at 2 req/s, 3% above."""
    return 0.05 if rate < 5 else 0.03


@dataclass(frozen=True)
class FollowCase:
    """A quota that changes once during a run."""

    schedule: Schedule
    identities: int

    @property
    def change(self) -> tuple[float, float, float]:
        """(second of the change, old quota, new quota)."""
        (_, old), (at, new) = self.schedule[0], self.schedule[1]
        return at, old, new

    @property
    def label(self) -> str:
        at, old, new = self.change
        return f"{old:g} -> {new:g} req/s at {at:g} s"


@dataclass(frozen=True)
class OrgPlan:
    """An organization: accounts x regions, identities per unit (account in a region), and
    the smaller organizations run beside it (where the client's CPU starts to bind)."""

    accounts: int
    regions: int
    identities: int
    fewer: tuple[int, ...] = ()


@dataclass(frozen=True)
class Plan:
    """How big each benchmark is: the full one, or ``--quick``."""

    goodput_seconds: float
    follow: tuple[FollowCase, ...]
    fixed_identities: int
    cpu_identities: int
    cpu_repeat: int
    memory: tuple[int, int]
    org: OrgPlan
    apply_changes: int
    suppressions: tuple[int, int]


FULL: Final = Plan(
    goodput_seconds=GOODPUT_SECONDS,
    follow=(
        # 40 s at 5/s, then ~80 s at 50/s; 30 s at 50/s, then ~90 s at 5/s: ~120 s each.
        FollowCase(((0.0, 5.0), (40.0, 50.0)), 200 + 4000),
        FollowCase(((0.0, 50.0), (30.0, 5.0)), 1500 + 450),
    ),
    fixed_identities=200,
    cpu_identities=4000,
    cpu_repeat=7,
    memory=(2000, 20_000),
    # 1,500 lookups + a list page at 20 req/s: ~75 s for one unit alone, 1,200 req/s for 60.
    # quota x 75 s per unit, as the single-unit goodput target is measured
    org=OrgPlan(accounts=20, regions=3, identities=1500, fewer=(10,)),
    apply_changes=3000,  # 150 s of writes at 20 req/s
    suppressions=(10_000, 1_000_000),
)
QUICK: Final = Plan(
    goodput_seconds=0.5,
    follow=(
        FollowCase(((0.0, 5.0), (2.0, 50.0)), 10 + 20),
        FollowCase(((0.0, 50.0), (2.0, 5.0)), 50 + 10),
    ),
    fixed_identities=30,
    cpu_identities=200,
    cpu_repeat=1,
    memory=(50, 500),
    org=OrgPlan(accounts=3, regions=2, identities=20),
    apply_changes=40,
    suppressions=(1000, 5000),
)


# -- output ------------------------------------------------------------------------------------


class Output:
    """The report: printed as it goes, kept for ``--save``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        self.lines.append(line)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A plain-text table, the first column left-aligned, the others right."""
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

        def line(cells: Sequence[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
            return "  ".join([first, *rest]).rstrip()

        for text in [line(headers), "  ".join("-" * w for w in widths), *map(line, rows)]:
            self(text)

    def timeline(self, title: str, timeline: Sequence[Sequence[int]], per_row: int = 15) -> None:
        """A per-second timeline of ``[200s, 429s]``, ``per_row`` seconds a row."""
        self(f"  {title}, per second from the first request, 200s/429s:")
        cells = [f"{ok}/{throttled}" for ok, throttled in timeline]
        width = max((len(cell) for cell in cells), default=3)
        for start in range(0, len(cells), per_row):
            row = " ".join(cell.rjust(width) for cell in cells[start : start + per_row])
            self(f"    {start:>4}s {row}")


def _log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# -- measuring one process ---------------------------------------------------------------------


@dataclass
class Measured:
    """What ``os.wait4`` (and, for the tree, ``/proc``) says about one client process."""

    returncode: int
    wall_s: float
    cpu_s: float
    rss_mib: float
    tree_rss_mib: float
    processes: int
    stderr_tail: str = ""
    timed_out: bool = False


class _TreeSampler(threading.Thread):
    """Samples the peak RSS (``VmHWM``) of a process and every descendant, from ``/proc``.

    A process's ``VmHWM`` is its own peak so far; the last value read before it exits is
    kept (a peak reached in its last ``interval`` may be missed). Descendants are found by
    their parent pid in ``/proc/*/stat``.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self._interval = interval
        self._done = threading.Event()
        self.peaks_kib: dict[int, int] = {}

    def run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(self._interval)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _sample(self) -> None:
        parents: dict[int, list[int]] = {}
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/stat", "rb") as handle:
                        stat = handle.read()
                except OSError:
                    continue
                ppid = int(stat.rsplit(b")", 1)[1].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
        tree, todo = [], [self._pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(parents.get(pid, ()))
        for pid in tree:
            hwm = _vm_hwm_kib(pid)
            if hwm is not None:
                self.peaks_kib[pid] = max(hwm, self.peaks_kib.get(pid, 0))


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def spawn_measured(
    command: Sequence[str], env: dict[str, str], timeout: float, *, tree: bool = False
) -> Measured:
    """Run ``command`` to completion; return its wall time, CPU time and peak RSS.

    With ``tree``, also sample the peak RSS of every process it starts and sum them
    (``os.wait4`` gives the peak of one process only).
    """
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        sampler = _TreeSampler(process.pid) if tree else None
        if sampler is not None:
            sampler.start()
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            process.kill()

        killer = threading.Timer(timeout, kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if sampler is not None:
            sampler.stop()
        stderr.seek(0)
        tail = stderr.read().decode(errors="replace")[-3000:]
    own_kib = float(usage.ru_maxrss)  # KiB on Linux
    peaks = dict(sampler.peaks_kib) if sampler is not None else {}
    top = peaks.pop(process.pid, 0)
    # Without descendants ru_maxrss is the process's own exact peak; with some it may be a
    # child's (wait4 folds reaped children in), so the sampled VmHWM counts instead.
    tree_kib = (max(top, own_kib) if not peaks else (top or own_kib)) + sum(peaks.values())
    return Measured(
        returncode=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        rss_mib=own_kib / 1024,
        tree_rss_mib=tree_kib / 1024,
        processes=1 + len(peaks),
        stderr_tail=tail,
        timed_out=timed_out.is_set(),
    )


# -- one client run ----------------------------------------------------------------------------


@dataclass
class Run:
    """One client process against one endpoint configuration.

    ``identities`` is what the run must deliver: identities (of every unit), changes
    applied, or suppressed addresses; ``extra`` holds what a benchmark counts besides.
    """

    bench: str
    client: str
    identities: int
    label: str = ""
    schedule: list[list[float]] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    returncode: int = -1
    wall_s: float = 0.0
    cpu_s: float = 0.0
    startup_cpu_s: float = 0.0
    rss_mib: float = 0.0
    tree_rss_mib: float = 0.0
    processes: int = 0
    records: int = 0
    errors: int = 0
    delivered: int = 0
    run_end: dict[str, Any] | None = None
    note: str = ""
    endpoint: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The row's label: ``label``, else the client's."""
        return self.label or LABELS[self.client]

    @property
    def quota(self) -> float:
        """The quota at the start, requests/s (0 when unlimited)."""
        return float(self.schedule[0][1]) if self.schedule else 0.0

    @property
    def requests(self) -> int:
        """SES requests the endpoint received."""
        return int(self.endpoint.get("requests", 0))

    @property
    def ok(self) -> int:
        """SES requests answered 200 (list pages and lookups)."""
        return int(self.endpoint.get("ok", 0))

    @property
    def throttled(self) -> int:
        """SES requests answered 429."""
        return int(self.endpoint.get("throttled", 0))

    @property
    def throttled_share(self) -> float:
        """The share of all SES requests answered 429."""
        return self.throttled / self.requests if self.requests else 0.0

    @property
    def goodput(self) -> float:
        """Successful SES requests per second of the client's wall time."""
        return self.ok / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def gets(self) -> int:
        """GetEmailIdentity requests the endpoint received."""
        return int(self.endpoint.get("gets", 0))

    @property
    def cpu_ms_per_get(self) -> float:
        """Client CPU per GetEmailIdentity request, whole process."""
        return 1000 * self.cpu_s / self.gets if self.gets else 0.0

    @property
    def net_cpu_ms_per_get(self) -> float:
        """Client CPU per GetEmailIdentity request, less an import-only process's CPU."""
        net = max(0.0, self.cpu_s - self.startup_cpu_s)
        return 1000 * net / self.gets if self.gets else 0.0

    @property
    def timeline(self) -> list[list[int]]:
        """Per second from the first SES request: ``[200s, 429s]``."""
        return list(self.endpoint.get("timeline") or [])

    @property
    def complete(self) -> bool:
        """Every identity delivered, no error record, exit 0, a consistent ``run_end``."""
        end = self.run_end or {}
        return (
            self.returncode == 0
            and self.delivered == self.identities
            and self.errors == 0
            and end.get("records") == self.records
            and end.get("errors") == self.errors
        )

    @property
    def crashed(self) -> bool:
        """Whether the client died rather than finishing its report (exit 0 or 1)."""
        return self.returncode not in (0, 1) or self.run_end is None

    def summary(self) -> str:
        """``delivered/expected, N errors, exit C``."""
        return (
            f"{self.delivered:,}/{self.identities:,} delivered, {self.errors:,} error records, "
            f"exit {self.returncode}"
        )


def _report_lines(path: Path) -> Iterator[dict[str, Any] | None]:
    """The JSON objects of an NDJSON report (``None`` for a line that is not one)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                yield None
                continue
            yield record if isinstance(record, dict) else None


def count_report(
    path: Path, record_type: str = "email_identity", name_field: str = "IdentityName"
) -> tuple[int, int, int, dict[str, Any] | None]:
    """Count a report's records, error records (any record, of any type, that carries an
    error, and lines that are not JSON), distinct items (account, region, name) delivered
    without error, and return its ``run_end`` line (``None`` if missing)."""
    records = errors = 0
    delivered: set[tuple[Any, Any, str]] = set()
    end: dict[str, Any] | None = None
    for record in _report_lines(path):
        kind = record.get("type") if record is not None else None
        if record is None:
            errors += 1
        elif kind == "run_end":
            end = record
        elif kind == record_type:
            records += 1
            if record.get("error") is not None:
                errors += 1
            elif isinstance(record.get(name_field), str):
                delivered.add((record.get("account"), record.get("region"), record[name_field]))
        elif kind != "run" and record.get("error") is not None:  # an account or listing error
            records += 1
            errors += 1
    return records, errors, len(delivered), end


def _count_identities(path: Path, run: Run) -> None:
    run.records, run.errors, run.delivered, run.run_end = count_report(path)


def _count_outcomes(path: Path, run: Run) -> None:
    """An apply's outcomes: delivered = changes ``applied``; errors = ``failed``; every
    status counted in ``extra["statuses"]``."""
    statuses: Counter[str] = Counter()
    applied: set[str] = set()
    for record in _report_lines(path):
        if record is None:
            statuses["not JSON"] += 1
        elif record.get("type") == "run_end":
            run.run_end = record
        elif record.get("type") == "outcome":
            status = str(record.get("status"))
            statuses[status] += 1
            if status == "applied":
                applied.add(str(record.get("change")))
    run.records = sum(statuses.values())
    run.errors = statuses["failed"] + statuses["not JSON"]
    run.delivered = len(applied)
    run.extra["statuses"] = dict(statuses)


def _count_suppressions(path: Path, run: Run) -> None:
    """A suppressions report: delivered = distinct addresses of the list (a bit each, so a
    million cost the harness 125 kB); an address outside the list counts as an error."""
    seen = bytearray((run.identities + 7) // 8)
    records = errors = delivered = 0
    for record in _report_lines(path):
        kind = record.get("type") if record is not None else None
        if record is None:
            errors += 1
        elif kind == "run_end":
            run.run_end = record
        elif kind == "suppressed_destination":
            records += 1
            index = suppressed_index(str(record.get("EmailAddress")))
            if record.get("error") is not None or index is None or index >= run.identities:
                errors += 1
            elif not seen[index >> 3] & (1 << (index & 7)):
                seen[index >> 3] |= 1 << (index & 7)
                delivered += 1
        elif kind != "run" and record.get("error") is not None:
            records += 1
            errors += 1
    run.records, run.errors, run.delivered = records, errors, delivered


def _child_env() -> dict[str, str]:
    """Client environment: static dummy credentials, no local AWS configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


class Harness:
    """Runs clients in fresh processes against lean endpoints."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        """Keep the command line; check that asyncses imports."""
        self.args = args
        self.out = out
        self.plan = QUICK if args.quick else FULL
        self.env = _child_env()
        self.runs: list[Run] = []
        self.verdicts: list[str] = []
        self._startup: dict[str, float] = {}

    def verdict(self, ok: bool | None, label: str, detail: str) -> None:
        """Record and print a target's PASS/FAIL line (nothing is judged with --quick)."""
        if self.args.quick:
            return
        word = "N/A " if ok is None else ("PASS" if ok else "FAIL")
        self.verdicts.append(f"{word}  {label}: {detail}")

    def startup_cpu(self, client: str) -> float:
        """CPU seconds of a process that only imports ``client``'s library (the least of
        5: on a shared machine noise only ever adds CPU)."""
        if client not in self._startup:
            command = [sys.executable, "-c", STARTUP_IMPORTS[client]]
            repeat = 1 if self.args.quick else 5
            runs = [spawn_measured(command, self.env, 120) for _ in range(repeat)]
            self._startup[client] = min(run.cpu_s for run in runs)
        return self._startup[client]

    def command(self, client: str, url: str, output: Path, extra: Sequence[str] = ()) -> list[str]:
        """The command line of one client run."""
        if client == "asyncses":
            return [
                sys.executable,
                "-m",
                "asyncses",
                "identities",
                "--region",
                REGION,
                "--endpoint-url",
                url,
                "-o",
                str(output),
                "--no-progress",
                *shlex.split(self.args.asyncses_args),
                *extra,
            ]
        return [
            sys.executable,
            "-m",
            "benchmarks.baselines",
            client,
            "--endpoint-url",
            url,
            "--region",
            REGION,
            "--concurrency",
            str(self.args.concurrency),
            "-o",
            str(output),
            *extra,
        ]

    def run(
        self,
        bench: str,
        client: str,
        endpoint: EndpointProcess,
        extra: Sequence[str] = (),
        *,
        tree: bool = False,
    ) -> Run:
        """Run ``client`` once, in a fresh process, against ``endpoint`` (reset first)."""
        run = Run(bench, client, endpoint.config.identities, args=list(extra))
        return self.launch(
            run,
            endpoint,
            lambda output: self.command(client, endpoint.url, output, extra),
            tree=tree,
        )

    def launch(
        self,
        run: Run,
        endpoint: EndpointProcess,
        command: Callable[[Path], list[str]],
        *,
        count: Callable[[Path, Run], None] = _count_identities,
        tree: bool = False,
        control: bool = False,
    ) -> Run:
        """Run ``command(report path)`` once, in a fresh process, against ``endpoint``
        (reset first); count its report with ``count``. With ``control``, STS and
        Organizations are the endpoint too (``AWS_ENDPOINT_URL_STS``, ``_ORGANIZATIONS``)."""
        config = endpoint.config
        run.schedule = [list(step) for step in config.schedule]
        quota = f"quota {format_schedule(config.schedule)}" if config.schedule else "unlimited"
        if config.write_rate is not None:
            quota += f", writes {config.write_rate:g}/s"
        flags = "" if run.label else "".join(f" {arg}" for arg in run.args)
        _log(f"  {run.bench}: {run.name}{flags}, {run.identities:,} expected, {quota}")
        env = dict(self.env)
        if control:
            env.update(
                AWS_ENDPOINT_URL_STS=endpoint.url, AWS_ENDPOINT_URL_ORGANIZATIONS=endpoint.url
            )
        endpoint.reset()
        with tempfile.TemporaryDirectory(prefix="asyncses-bench-") as tmp:
            output = Path(tmp) / "report.ndjson"
            measured = spawn_measured(command(output), env, self.args.timeout, tree=tree)
            run.endpoint = endpoint.reset()
            count(output, run)
        run.returncode = measured.returncode
        run.wall_s = measured.wall_s
        run.cpu_s = measured.cpu_s
        run.rss_mib = measured.rss_mib
        run.tree_rss_mib = measured.tree_rss_mib
        run.processes = measured.processes
        if measured.timed_out:
            run.note = f"killed after {self.args.timeout:g} s"
        elif run.crashed:
            last = measured.stderr_tail.strip().splitlines()
            run.note = f"exit {run.returncode}: {last[-1] if last else 'no report end'}"[:300]
        elif run.errors:
            run.note = _first_error(measured.stderr_tail)
        self.runs.append(run)
        _log(
            f"    {run.summary()}, {run.wall_s:.1f} s, {run.requests:,} requests, "
            f"{run.throttled:,} throttled"
        )
        return run


def _first_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


@contextmanager
def endpoint_for(config: EndpointConfig) -> Iterator[EndpointProcess]:
    """An endpoint process serving ``config``."""
    with EndpointProcess(config) as endpoint:
        serves = f"{config.identities:,} identities"
        if config.accounts > 1:
            serves += f", {config.accounts} accounts"
        if config.suppressed:
            serves += f", {config.suppressed:,} suppressed addresses"
        _log(f"endpoint {endpoint.url} (pid {endpoint.pid}), {serves}")
        yield endpoint


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _endpoint_cpu(out: Output, runs: Sequence[Run]) -> None:
    requests = sum(run.requests for run in runs)
    cpu = sum(float(run.endpoint.get("server_cpu_s", 0.0)) for run in runs)
    if requests:
        out(f"  (endpoint process CPU: {1e6 * cpu / requests:.0f} us/request over {requests:,})")


def _notes(out: Output, runs: Sequence[Run]) -> None:
    for run in runs:
        if run.note:
            out(f"  {run.name} ({run.identities:,} expected): {run.note}")


# -- goodput -----------------------------------------------------------------------------------


def goodput(harness: Harness) -> None:
    """Every client at 2, 20 and 150 req/s; asyncses judged against the targets."""
    args, out, plan = harness.args, harness.out, harness.plan
    runs: list[Run] = []
    for rate in args.rates:
        count = max(1, round(rate * plan.goodput_seconds))
        config = EndpointConfig(count, args.latency, rate=rate, burst=BURST)
        with endpoint_for(config) as endpoint:
            runs += [harness.run("goodput", client, endpoint) for client in args.clients]
    out()
    out(
        f"== goodput: a token bucket per account and region, burst {BURST}, no Retry-After, "
        f"latency {1000 * args.latency:.0f} ms; identities = quota x "
        f"{plan.goodput_seconds:g} s; wall = process start to exit =="
    )
    rows = []
    for run in runs:
        rows.append(
            [
                f"{run.quota:g}/s",
                LABELS[run.client],
                f"{run.delivered:,}/{run.identities:,}",
                f"{run.errors:,}",
                str(run.returncode),
                f"{run.wall_s:.1f}",
                f"{float(run.endpoint.get('span_s', 0.0)):.1f}",
                f"{run.goodput:.2f}",
                _pct(run.goodput / run.quota),
                _pct(run.throttled_share),
                f"{run.requests:,}",
                f"{run.cpu_s:.1f}",
            ]
        )
    headers = ["quota", "client", "delivered", "errors", "exit", "wall s", "active s", "goodput/s"]
    headers += ["of quota", "throttled", "requests", "CPU s"]
    out.table(headers, rows)
    out(
        "  goodput = SES requests answered 200 (list pages too) / wall s; active = the "
        "endpoint's first request to its last answer"
    )
    _notes(out, runs)
    _endpoint_cpu(out, runs)
    for run in runs:
        if run.client == "asyncses":
            out.timeline(f"asyncses at {run.quota:g} req/s", run.timeline)
    for rate in args.rates:
        mine = next((r for r in runs if r.client == "asyncses" and r.quota == rate), None)
        where = f"goodput at {rate:g} req/s"
        if mine is None:
            continue
        harness.verdict(
            mine.complete, f"{where}: every identity, 0 error records, exit 0", mine.summary()
        )
        share = mine.goodput / rate
        harness.verdict(
            share >= GOODPUT_SHARE,
            f"{where}: goodput >= {GOODPUT_SHARE:.0%} of the quota",
            f"{_pct(share)} ({mine.ok:,} ok in {mine.wall_s:.1f} s)",
        )
        limit = throttle_limit(rate)
        harness.verdict(
            mine.throttled_share <= limit,
            f"{where}: throttled <= {limit:.0%} of requests",
            f"{_pct(mine.throttled_share)} ({mine.throttled:,} of {mine.requests:,})",
        )


# -- follow ------------------------------------------------------------------------------------


def follow_time(
    timeline: Sequence[Sequence[int]], change_at: float, old: float, new: float
) -> float | None:
    """Seconds from the change to the start of the first ``FOLLOW_WINDOW_S`` window that runs
    at >= 90% of a higher quota, or (a lower one) has <= 3% of its requests throttled;
    ``None`` if none does."""
    window = FOLLOW_WINDOW_S
    for second in range(math.ceil(change_at), len(timeline) - window + 1):
        span = timeline[second : second + window]
        ok = sum(cell[0] for cell in span)
        throttled = sum(cell[1] for cell in span)
        if new > old:
            if ok / window >= FOLLOW_UP_SHARE * new:
                return second - change_at
        elif ok + throttled > 0 and throttled <= FOLLOW_DOWN_SHARE * (ok + throttled):
            return second - change_at
    return None


def _after(timeline: Sequence[Sequence[int]], start: float, seconds: int) -> float:
    """200s per second over the ``seconds`` after ``start``."""
    first = math.ceil(start)
    span = timeline[first : first + seconds]
    return sum(cell[0] for cell in span) / seconds if span else 0.0


def follow(harness: Harness) -> None:
    """asyncses while the quota changes mid-run; then a fixed ``--rate`` above the quota."""
    args, out, plan = harness.args, harness.out, harness.plan
    runs: list[tuple[FollowCase, Run]] = []
    for case in plan.follow:
        config = EndpointConfig(case.identities, args.latency, schedule=case.schedule, burst=BURST)
        with endpoint_for(config) as endpoint:
            runs.append((case, harness.run("follow", "asyncses", endpoint)))
    config = EndpointConfig(plan.fixed_identities, args.latency, rate=FIXED_QUOTA, burst=BURST)
    with endpoint_for(config) as endpoint:
        fixed = harness.run("fixed", "asyncses", endpoint, ["--rate", f"{FIXED_RATE:g}"])
    out()
    out(
        f"== follow: asyncses (default flags) while the quota changes, burst {BURST}, "
        f"latency {1000 * args.latency:.0f} ms; seconds from the endpoint's first request =="
    )
    rows = []
    follows: list[float | None] = []
    for case, run in runs:
        at, old, new = case.change
        took = follow_time(run.timeline, at, old, new)
        follows.append(took)
        rows.append(
            [
                case.label,
                f"{run.delivered:,}/{run.identities:,}",
                f"{run.errors:,}",
                str(run.returncode),
                f"{run.wall_s:.1f}",
                f"{run.requests:,}",
                _pct(run.throttled_share),
                f"{_after(run.timeline, at, int(FOLLOW_LIMIT_S)):.1f}",
                "never" if took is None else f"{took:g}",
            ]
        )
    headers = ["quota", "delivered", "errors", "exit", "wall s", "requests", "throttled"]
    headers += [f"200s/s in {FOLLOW_LIMIT_S:g} s after", "follows in s"]
    out.table(headers, rows)
    out(
        f"  follows in = from the change to the first {FOLLOW_WINDOW_S} s window at >= "
        f"{FOLLOW_UP_SHARE:.0%} of a higher quota, or with <= {FOLLOW_DOWN_SHARE:.0%} of its "
        "requests throttled after a lower one"
    )
    _notes(out, [run for _, run in runs])
    for case, run in runs:
        out.timeline(f"asyncses, {case.label}", run.timeline)
    for (case, run), took in zip(runs, follows, strict=True):
        detail = "never" if took is None else f"{took:g} s"
        if not run.complete:
            detail += f"; run incomplete: {run.summary()}"
        ok = took is not None and took <= FOLLOW_LIMIT_S and run.complete
        harness.verdict(ok, f"follow {case.label}: the pace follows within 30 s", detail)

    sent = [ok + throttled for ok, throttled in fixed.timeline[1:-1]]  # whole seconds only
    median = statistics.median(sent) if sent else 0.0
    out()
    out(
        f"== fixed rate: asyncses --rate {FIXED_RATE:g} against a {FIXED_QUOTA:g} req/s quota "
        f"(burst {BURST}), {fixed.identities:,} identities =="
    )
    out(
        f"  {fixed.summary()}, {fixed.wall_s:.1f} s, {fixed.requests:,} requests, "
        f"{_pct(fixed.throttled_share)} throttled; requests sent per whole second: median "
        f"{median:g}, {min(sent, default=0)}..{max(sent, default=0)}"
    )
    _notes(out, [fixed])
    out.timeline(f"asyncses --rate {FIXED_RATE:g}", fixed.timeline)
    steady = abs(median - FIXED_RATE) <= FIXED_TOLERANCE * FIXED_RATE
    harness.verdict(
        steady and fixed.complete,
        f"--rate {FIXED_RATE:g} stays a fixed rate above a {FIXED_QUOTA:g} req/s quota "
        f"(median requests/s within {FIXED_TOLERANCE:.0%})",
        f"median {median:g} req/s sent" + ("" if fixed.complete else f"; {fixed.summary()}"),
    )


# -- cpu ---------------------------------------------------------------------------------------


#: The fixed rate of the cpu benchmark's paced rows, requests/s: well under what the
#: unlimited endpoint serves at concurrency 32 (~1,500/s), so the pacer, not the latency,
#: sets the pace.
CPU_PACED: Final = "300"

#: The cpu benchmark's rows: label, client, extra arguments. The second asyncses row paces at
#: a rate no endpoint here reaches, so it runs unpaced from the first request, as naive
#: aioboto3 does: the same work at the same pace, without the cautious start.
CPU_ROWS: Final = (
    ("asyncses", "asyncses", ()),
    ("asyncses --rate 100000", "asyncses", ("--rate", "100000")),
    ("naive", "naive", ()),
    # Pacing itself costs CPU, whoever paces: both at one fixed rate, side by side.
    (f"asyncses --rate {CPU_PACED}", "asyncses", ("--rate", CPU_PACED)),
    (f"naive --rate {CPU_PACED}", "naive", ("--rate", CPU_PACED)),
)


def cpu(harness: Harness) -> None:
    """Client CPU per lookup on an unlimited endpoint: asyncses vs naive aioboto3."""
    args, out, plan = harness.args, harness.out, harness.plan
    config = EndpointConfig(plan.cpu_identities, args.latency)
    concurrency = ["--concurrency", str(args.concurrency)]
    by_row: dict[str, list[Run]] = {label: [] for label, _, _ in CPU_ROWS}
    with endpoint_for(config) as endpoint:
        for _, client, _ in CPU_ROWS:
            harness.startup_cpu(client)
        for _ in range(plan.cpu_repeat):  # interleaved, so drift hits every row alike
            for label, client, extra in CPU_ROWS:
                flags = [*concurrency, *extra] if client == "asyncses" else list(extra)
                run = harness.run("cpu", client, endpoint, flags)
                run.startup_cpu_s = harness.startup_cpu(client)
                by_row[label].append(run)
    # Each round runs every row once, back to back, so a neighbour's load or a frequency
    # change hits the rows of a round alike: the ratio of two rows is taken per round, and
    # the median of those ratios is the verdict. The least CPU of each row is shown beside
    # it (noise only adds CPU, but one lucky run of either row moves a ratio of minima).
    typical = {label: _median_run(runs) for label, runs in by_row.items()}
    out()
    out(
        f"== cpu: unlimited endpoint, {plan.cpu_identities:,} identities, latency "
        f"{1000 * args.latency:.0f} ms, concurrency {args.concurrency}, one process each; "
        f"{plan.cpu_repeat} interleaved rounds, each row once a round =="
    )
    naive_runs = by_row["naive"]
    paced = f"--rate {CPU_PACED}"

    def baseline(label: str) -> list[Run]:
        """Naive aioboto3 as it runs beside ``label``: paced rows beside the paced naive."""
        return by_row[f"naive {paced}"] if label.endswith(paced) else naive_runs

    rows = []
    for label, client, _ in CPU_ROWS:
        run = typical[label]
        runs = by_row[label]
        ratios = _paired_ratios(runs, baseline(label))
        rows.append(
            [
                LABELS[client] + label.removeprefix(client),
                f"{run.delivered:,}/{run.identities:,}",
                f"{run.wall_s:.2f}",
                f"{run.cpu_s:.2f}",
                f"{run.startup_cpu_s:.2f}",
                f"{run.net_cpu_ms_per_get:.3f}",
                f"{min(r.net_cpu_ms_per_get for r in runs):.3f}",
                f"{statistics.median(ratios):.2f}x" if ratios else "-",
                f"{run.rss_mib:.1f}",
                " ".join(f"{r.net_cpu_ms_per_get:.3f}" for r in runs),
            ]
        )
    headers = ["client", "delivered", "wall s", "CPU s", "import-only CPU s"]
    headers += ["ms/get net, median", "least", "x naive (paired)", "peak RSS MiB"]
    headers += ["net ms/get of each round"]
    out.table(headers, rows)
    out(
        f"  net = (CPU - CPU of a process that only runs {STARTUP_IMPORTS['asyncses']!r}, "
        f"or {STARTUP_IMPORTS['naive']!r} for aioboto3) / GetEmailIdentity calls; the median "
        "row's CPU, wall and RSS are shown; x naive = the median over rounds of this row's "
        f"net CPU / naive's in the same round (the {paced} rows: / naive's at {paced}, which "
        "paces with one lock and a sleep until the next slot)"
    )
    out(
        "  default flags start cautiously (8 req/s, doubling): the first seconds' requests go "
        "out one by one, and a request sent alone costs more CPU than one among many (more "
        "loop wake-ups per request, colder caches), whichever client sends it; --rate 100000 "
        "sends as naive aioboto3 does, from the first request"
    )
    asyncses_paced = by_row[f"asyncses {paced}"]
    if all(run.complete for run in [*asyncses_paced, *baseline(paced)]):
        ratio = statistics.median(_paired_ratios(asyncses_paced, baseline(paced)))
        unpaced = statistics.median(_paired_ratios(by_row[f"naive {paced}"], naive_runs))
        out(
            f"  pacing itself: naive aioboto3 at {paced} takes {unpaced:.2f}x the CPU per "
            f"lookup of naive unpaced; asyncses at {paced} takes {ratio:.2f}x naive's at the "
            "same rate"
        )
    all_runs = [run for runs in by_row.values() for run in runs]
    _notes(out, all_runs)
    _endpoint_cpu(out, all_runs)
    where = f"{plan.cpu_identities:,} ids, {1000 * args.latency:.0f} ms, c={args.concurrency}"
    for row, how in (("asyncses", "default flags"), ("asyncses --rate 100000", "the same pace")):
        runs = by_row[row]
        label = f"client CPU per GetEmailIdentity, {how} (net of imports) <= {CPU_RATIO:g}x naive"
        if not all(run.complete for run in [*runs, *naive_runs]):
            bad = [run.summary() for run in [*runs, *naive_runs] if not run.complete]
            harness.verdict(False, label, f"incomplete runs: {'; '.join(bad)}")
            continue
        ratios = _paired_ratios(runs, naive_runs)
        ratio = statistics.median(ratios)
        each = " ".join(f"{r:.2f}" for r in ratios)
        harness.verdict(
            ratio <= CPU_RATIO,
            label,
            f"median of {len(ratios)} rounds {ratio:.2f}x (each: {each}); "
            f"least CPU {min(r.net_cpu_ms_per_get for r in runs):.3f} vs "
            f"{min(r.net_cpu_ms_per_get for r in naive_runs):.3f} ms ({where})",
        )


def _median_run(runs: Sequence[Run]) -> Run:
    """The run with the median net CPU per lookup (the lower middle of an even count)."""
    ordered = sorted(runs, key=lambda run: run.net_cpu_ms_per_get)
    return ordered[(len(ordered) - 1) // 2]


def _paired_ratios(runs: Sequence[Run], baseline: Sequence[Run]) -> list[float]:
    """Each round's net CPU per lookup over the baseline's in the same round."""
    return [
        a.net_cpu_ms_per_get / b.net_cpu_ms_per_get
        for a, b in zip(runs, baseline, strict=True)
        if b.net_cpu_ms_per_get > 0
    ]


# -- memory ------------------------------------------------------------------------------------


def memory(harness: Harness) -> None:
    """Peak RSS of asyncses, summed over its process tree, at two identity counts."""
    args, out, plan = harness.args, harness.out, harness.plan
    runs = []
    for count in plan.memory:
        with endpoint_for(EndpointConfig(count, args.latency)) as endpoint:
            runs.append(harness.run("memory", "asyncses", endpoint, tree=True))
    out()
    out(
        f"== memory: asyncses (default flags), unlimited endpoint, latency "
        f"{1000 * args.latency:.0f} ms; peak RSS summed over the client's process tree =="
    )
    rows = [
        [
            f"{run.identities:,}",
            f"{run.delivered:,}",
            f"{run.errors:,}",
            f"{run.wall_s:.2f}",
            str(run.processes),
            f"{run.rss_mib:.1f}",
            f"{run.tree_rss_mib:.1f}",
        ]
        for run in runs
    ]
    headers = ["identities", "delivered", "errors", "wall s", "processes", "own peak MiB"]
    out.table([*headers, "tree peak MiB"], rows)
    out("  tree peak = each process's own peak (VmHWM, or ru_maxrss from os.wait4), summed")
    _notes(out, runs)
    small, big = runs
    label = (
        f"peak memory at {big.identities:,} identities <= {RSS_RATIO:g}x at {small.identities:,}"
    )
    if not (small.complete and big.complete):
        harness.verdict(False, label, f"incomplete runs: {small.summary()}; {big.summary()}")
        return
    ratio = big.tree_rss_mib / small.tree_rss_mib
    harness.verdict(
        ratio <= RSS_RATIO,
        label,
        f"{big.tree_rss_mib:.1f} / {small.tree_rss_mib:.1f} MiB = {ratio:.2f}x",
    )


# -- org ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitStats:
    """What the endpoint saw of the units of one run: one read bucket per account x region."""

    shares: dict[str, float]  # bucket ("KEY/region") -> throttled share of its requests
    starts: list[int]  # second of each unit's first request, from the run's first request
    spans: list[int]  # seconds from each unit's first request to its last

    @property
    def units(self) -> int:
        """Buckets that saw requests."""
        return len(self.shares)

    @property
    def worst(self) -> tuple[str, float]:
        """The most throttled unit and its share."""
        return max(self.shares.items(), key=lambda item: item[1], default=("-", 0.0))

    def over(self, limit: float) -> int:
        """How many units had more than ``limit`` of their requests throttled."""
        return sum(share > limit for share in self.shares.values())


def unit_stats(endpoint: dict[str, Any]) -> UnitStats:
    """Per-unit shares, start and span seconds, from ``/_stats`` buckets."""
    shares: dict[str, float] = {}
    starts: list[int] = []
    spans: list[int] = []
    for key, bucket in (endpoint.get("buckets") or {}).items():
        requests = int(bucket.get("requests", 0))
        if not requests:
            continue
        shares[key] = int(bucket.get("throttled", 0)) / requests
        busy = [second for second, cell in enumerate(bucket.get("timeline") or []) if sum(cell)]
        if busy:
            starts.append(busy[0])
            spans.append(busy[-1] - busy[0] + 1)
    return UnitStats(shares, sorted(starts), sorted(spans))


def _unit_name(bucket: str) -> str:
    """``ASIA100000000007/eu-west-1`` -> ``100000000007/eu-west-1``."""
    key, _, region = bucket.partition("/")
    return f"{account_of_key(key)}/{region}"


def _histogram(seconds: Sequence[int]) -> str:
    """``second:count`` of each second that occurs, in order."""
    counts = Counter(seconds)
    return " ".join(f"{second}:{counts[second]}" for second in sorted(counts))


@dataclass(frozen=True)
class OrgCase:
    """One row of the organization benchmark: accounts x regions, and the accounts of them
    reached through an assumed role (all but the management account)."""

    label: str
    accounts: int
    regions: tuple[str, ...]
    members: int
    flags: tuple[str, ...] = ()

    @property
    def units(self) -> int:
        """Accounts x regions."""
        return self.accounts * len(self.regions)


def _org_cases(plan: OrgPlan) -> list[OrgCase]:
    regions = ORG_REGIONS[: plan.regions]
    full = f"{plan.accounts} x {len(regions)}"
    members = plan.accounts - 1
    cases = [
        OrgCase("1 unit alone", 1, regions[:1], 1, ("--org-accounts", account_id(1))),
        OrgCase(full, plan.accounts, regions, members),
        OrgCase(f"{full}, --jobs 2", plan.accounts, regions, members, ("--jobs", "2")),
    ]
    for accounts in plan.fewer:
        chosen = ",".join(account_id(index) for index in range(accounts))  # management first
        flags = ("--org-accounts", chosen)
        cases.append(
            OrgCase(f"{accounts} x {len(regions)}", accounts, regions, accounts - 1, flags)
        )
    return cases


def org(harness: Harness) -> None:
    """An organization's accounts x regions, each behind its own quota, against one unit
    alone: the real CLI with ``--org-role``, STS and Organizations on the endpoint."""
    args, out, plan = harness.args, harness.out, harness.plan.org
    config = EndpointConfig(
        plan.identities, args.latency, rate=ORG_RATE, burst=BURST, accounts=plan.accounts
    )
    results: list[tuple[OrgCase, Run]] = []
    with endpoint_for(config) as endpoint:
        for case in _org_cases(plan):
            run = Run(
                "org",
                "asyncses",
                case.units * plan.identities,
                label=f"asyncses, {case.label}",
                args=list(case.flags),
            )

            def command(output: Path, case: OrgCase = case) -> list[str]:
                return [
                    sys.executable,
                    "-m",
                    "asyncses",
                    "identities",
                    "--org-role",
                    ORG_ROLE,
                    "--region",
                    ",".join(case.regions),
                    "--endpoint-url",
                    endpoint.url,
                    "-o",
                    str(output),
                    "--no-progress",
                    *shlex.split(args.asyncses_args),
                    *case.flags,
                ]

            harness.launch(run, endpoint, command, control=True)
            run.extra.update(units=case.units, members=case.members)
            results.append((case, run))
    single = results[0][1]
    out()
    out(
        f"== org: {plan.accounts} accounts x {plan.regions} regions, each account x region "
        f"behind its own {ORG_RATE:g} req/s token bucket (burst {BURST}, no Retry-After), "
        f"{plan.identities:,} identities each, latency {1000 * args.latency:.0f} ms; "
        f"asyncses identities --org-role {ORG_ROLE} --region "
        f"{','.join(ORG_REGIONS[: plan.regions])} (STS and Organizations on the endpoint) =="
    )
    rows = []
    for case, run in results:
        stats = unit_stats(run.endpoint)
        control = run.endpoint.get("control") or {}
        shares = sorted(stats.shares.values())
        rows.append(
            [
                case.label,
                f"{stats.units}/{case.units}",
                f"{run.delivered:,}/{run.identities:,}",
                f"{run.errors:,}",
                str(run.returncode),
                f"{run.wall_s:.1f}",
                f"{run.wall_s / single.wall_s:.2f}" if single.wall_s else "-",
                f"{run.requests:,}",
                _pct(run.throttled_share),
                _pct(shares[-1] if shares else 0.0),
                _pct(statistics.median(shares) if shares else 0.0),
                str(stats.over(ORG_THROTTLE)),
                f"{max(stats.starts, default=0)}",
                f"{statistics.median(stats.spans) if stats.spans else 0:g}/"
                f"{max(stats.spans, default=0)}",
                f"{control.get('AssumeRole', 0)}",
                f"{run.cpu_s:.1f}",
                f"{run.cpu_s / run.wall_s:.2f}" if run.wall_s else "-",
                f"{float(run.endpoint.get('server_cpu_s', 0.0)):.1f}",
            ]
        )
    headers = ["run", "units", "delivered", "errors", "exit", "wall s", "x alone", "requests"]
    headers += ["throttled", "worst unit", "median unit", f"units > {ORG_THROTTLE:.0%}"]
    headers += ["last unit start s", "unit span s med/max", "AssumeRole", "client CPU s"]
    headers += ["cores", "endpoint CPU s"]
    out.table(headers, rows)
    out(
        "  x alone = wall / the wall of one unit alone (all units serve the same identities at "
        "the same quota, so any one stands for the slowest); worst/median unit = throttled "
        "share of one account x region's requests; unit start/span from the endpoint's "
        "per-bucket timeline; client CPU = user + system of the process tree (os.wait4), "
        "cores = client CPU / wall"
    )
    _notes(out, [run for _, run in results])
    for case, run in results[1:]:
        stats = unit_stats(run.endpoint)
        out(f"  {case.label}: units starting at second (second:units): {_histogram(stats.starts)}")
    for case, run in results[1:3]:
        out.timeline(f"asyncses, {case.label}, every unit", run.timeline)
        worst, share = unit_stats(run.endpoint).worst
        bucket = (run.endpoint.get("buckets") or {}).get(worst) or {}
        out.timeline(
            f"its most throttled unit, {_unit_name(worst)} ({_pct(share)})",
            bucket.get("timeline") or [],
        )
    out(
        f"  one unit alone: {single.summary()}, {single.wall_s:.1f} s, "
        f"{_pct(single.throttled_share)} throttled"
    )
    for case, run in results[1:3]:
        _judge_org(harness, case, run, single)


def _judge_org(harness: Harness, case: OrgCase, run: Run, single: Run) -> None:
    where = f"org {case.label} ({case.units} units)"
    assumed = len(run.endpoint.get("assumed_accounts") or [])
    members = case.members
    harness.verdict(
        run.complete and assumed == members,
        f"{where}: every identity of every unit, 0 error records, exit 0",
        f"{run.summary()}; roles assumed in {assumed}/{members} member accounts",
    )
    ratio = run.wall_s / single.wall_s if single.wall_s else math.inf
    harness.verdict(
        ratio <= ORG_WALL_RATIO,
        f"{where}: wall <= {ORG_WALL_RATIO:g}x one unit alone",
        f"{run.wall_s:.1f} / {single.wall_s:.1f} s = {ratio:.2f}x "
        f"(client CPU {run.cpu_s:.0f} s = {run.cpu_s / run.wall_s:.2f} cores)",
    )
    stats = unit_stats(run.endpoint)
    worst, share = stats.worst
    harness.verdict(
        share <= ORG_THROTTLE and stats.units == case.units,
        f"{where}: no unit throttled above {ORG_THROTTLE:.0%} of its requests",
        f"worst {_unit_name(worst)} {_pct(share)}; {stats.over(ORG_THROTTLE)} of "
        f"{stats.units} units above",
    )


# -- apply -------------------------------------------------------------------------------------


def _build_plan(harness: Harness, changes: int, directory: Path) -> tuple[Path | None, str]:
    """Build the plan as a user would, against an unlimited endpoint that serves the same
    identities: ``asyncses identities -o report``, then ``asyncses plan``. Returns the plan
    (``None`` if a step failed) and what happened."""
    report, plan = directory / "report.ndjson", directory / "feedback.plan"
    action, *arguments = APPLY_ACTION
    identities = ["identities", "--region", REGION, "--endpoint-url", "URL", "-o", str(report)]
    steps = [
        [*identities, "--no-progress"],
        ["plan", action, *arguments, "--from", str(report), "-o", str(plan)],
    ]
    done: list[str] = []
    with endpoint_for(EndpointConfig(changes, harness.args.latency)) as endpoint:
        for step in steps:
            command = [sys.executable, "-m", "asyncses"]
            command += [endpoint.url if part == "URL" else part for part in step]
            _log(f"  apply setup: asyncses {shlex.join(command[3:])}")
            measured = spawn_measured(command, harness.env, harness.args.timeout)
            if measured.returncode != 0:
                tail = measured.stderr_tail.strip().splitlines()
                return None, f"{step[0]} exited {measured.returncode}: {tail[-1] if tail else ''}"
            done.append(f"{step[0]} {measured.wall_s:.1f} s")
    planned = sum(1 for line in _report_lines(plan) if line and line.get("type") == "change")
    if planned != changes:
        return None, f"the plan holds {planned:,} changes, not {changes:,}"
    return plan, f"{planned:,} changes planned ({', '.join(done)})"


def apply_changes(harness: Harness) -> None:
    """``asyncses apply`` of a plan of ``set-feedback-forwarding off`` changes, behind a write
    quota; beside it, aioboto3 in adaptive retry mode doing the same re-read and write."""
    args, out, count = harness.args, harness.out, harness.plan.apply_changes
    config = EndpointConfig(
        count, args.latency, rate=APPLY_READ_RATE, write_rate=APPLY_WRITE_RATE, burst=BURST
    )
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="asyncses-bench-plan-") as tmp:
        plan, setup = _build_plan(harness, count, Path(tmp))
        if plan is not None:
            with endpoint_for(config) as endpoint:
                for client in ("asyncses", "adaptive"):
                    run = Run("apply", client, count)

                    def command(output: Path, client: str = client, plan: Path = plan) -> list[str]:
                        if client == "asyncses":
                            return [
                                sys.executable,
                                "-m",
                                "asyncses",
                                "apply",
                                str(plan),
                                "-o",
                                str(output),
                                "--endpoint-url",
                                endpoint.url,
                                *shlex.split(args.asyncses_args),
                            ]
                        return [
                            sys.executable,
                            "-m",
                            "benchmarks.baselines",
                            "apply-adaptive",
                            "--plan",
                            str(plan),
                            "--endpoint-url",
                            endpoint.url,
                            "--region",
                            REGION,
                            "--concurrency",
                            str(args.concurrency),
                            "-o",
                            str(output),
                        ]

                    runs.append(
                        harness.launch(run, endpoint, command, count=_count_outcomes, control=True)
                    )
    out()
    out(
        f"== apply: {' '.join(APPLY_ACTION)}, {count:,} changes, one account; reads "
        f"{APPLY_READ_RATE:g} req/s, writes {APPLY_WRITE_RATE:g} req/s (a token bucket each, "
        f"burst {BURST}, no Retry-After), latency {1000 * args.latency:.0f} ms =="
    )
    out(f"  setup (unlimited endpoint, same identities): {setup}")
    if plan is None:
        harness.verdict(False, "apply: the plan could be built", setup)
        return
    rows = []
    for run in runs:
        writes, written = int(run.endpoint.get("writes", 0)), int(run.endpoint.get("writes_ok", 0))
        write_429 = int(run.endpoint.get("writes_throttled", 0))
        reads = run.requests - writes
        read_429 = run.throttled - write_429
        statuses = run.extra.get("statuses") or {}
        rows.append(
            [
                LABELS[run.client],
                ", ".join(f"{n:,} {status}" for status, n in sorted(statuses.items())) or "none",
                str(run.returncode),
                f"{run.wall_s:.1f}",
                f"{written:,}",
                f"{written / run.wall_s:.2f}" if run.wall_s else "-",
                _pct(written / run.wall_s / APPLY_WRITE_RATE) if run.wall_s else "-",
                f"{write_429:,} ({_pct(write_429 / writes if writes else 0.0)})",
                f"{reads:,}",
                f"{read_429:,} ({_pct(read_429 / reads if reads else 0.0)})",
                f"{run.cpu_s:.1f}",
            ]
        )
    headers = ["client", "outcomes", "exit", "wall s", "writes ok", "writes/s", "of quota"]
    headers += ["writes throttled", "reads", "reads throttled", "CPU s"]
    out.table(headers, rows)
    out(
        "  writes/s = PutEmailIdentityFeedbackAttributes answered 200 / wall s (process start "
        "to exit); reads = GetEmailIdentity (a re-read before each write)"
    )
    _notes(out, runs)
    _endpoint_cpu(out, runs)
    for run in runs:
        out.timeline(f"{LABELS[run.client]}, writes", run.endpoint.get("write_timeline") or [])
    mine = runs[0]
    writes = int(mine.endpoint.get("writes", 0))
    written = int(mine.endpoint.get("writes_ok", 0))
    write_429 = int(mine.endpoint.get("writes_throttled", 0))
    where = f"apply {count:,} changes at {APPLY_WRITE_RATE:g} writes/s"
    statuses = mine.extra.get("statuses") or {}
    harness.verdict(
        mine.complete and statuses == {"applied": count},
        f"{where}: every change applied, exit 0",
        f"{', '.join(f'{n:,} {s}' for s, n in sorted(statuses.items()))}, exit {mine.returncode}",
    )
    share = written / mine.wall_s / APPLY_WRITE_RATE if mine.wall_s else 0.0
    harness.verdict(
        share >= GOODPUT_SHARE,
        f"{where}: writes/s >= {GOODPUT_SHARE:.0%} of the write quota",
        f"{_pct(share)} ({written:,} writes in {mine.wall_s:.1f} s)",
    )
    throttled = write_429 / writes if writes else 0.0
    harness.verdict(
        throttled <= APPLY_THROTTLE and writes > 0,
        f"{where}: throttled <= {APPLY_THROTTLE:.0%} of write requests",
        f"{_pct(throttled)} ({write_429:,} of {writes:,})",
    )


# -- suppressions ------------------------------------------------------------------------------


def suppressions(harness: Harness) -> None:
    """Peak RSS of ``asyncses suppressions`` (no ``--details``) at two list sizes."""
    args, out, plan = harness.args, harness.out, harness.plan
    runs = []
    for count in plan.suppressions:
        config = EndpointConfig(0, args.latency, suppressed=count)
        with endpoint_for(config) as endpoint:
            run = Run("suppressions", "asyncses", count)

            def command(output: Path, url: str = endpoint.url) -> list[str]:
                return [
                    sys.executable,
                    "-m",
                    "asyncses",
                    "suppressions",
                    "--region",
                    REGION,
                    "--endpoint-url",
                    url,
                    "-o",
                    str(output),
                    "--no-progress",
                    *shlex.split(args.asyncses_args),
                ]

            runs.append(
                harness.launch(run, endpoint, command, count=_count_suppressions, tree=True)
            )
    out()
    out(
        f"== suppressions: asyncses suppressions (no --details: ListSuppressedDestinations "
        f"only, PageSize 1000), unlimited endpoint, latency {1000 * args.latency:.0f} ms; "
        "peak RSS summed over the client's process tree =="
    )
    rows = [
        [
            f"{run.identities:,}",
            f"{run.delivered:,}",
            f"{run.errors:,}",
            str(run.returncode),
            f"{run.wall_s:.1f}",
            f"{int(run.endpoint.get('suppression_pages', 0)):,}",
            f"{run.delivered / run.wall_s:,.0f}" if run.wall_s else "-",
            f"{run.cpu_s:.1f}",
            str(run.processes),
            f"{run.rss_mib:.1f}",
            f"{run.tree_rss_mib:.1f}",
        ]
        for run in runs
    ]
    headers = ["addresses", "delivered", "errors", "exit", "wall s", "pages", "records/s"]
    headers += ["CPU s", "processes", "own peak MiB", "tree peak MiB"]
    out.table(headers, rows)
    out("  tree peak = each process's own peak (VmHWM, or ru_maxrss from os.wait4), summed")
    _notes(out, runs)
    _endpoint_cpu(out, runs)
    small, big = runs
    label = (
        f"suppressions: peak memory at {big.identities:,} addresses <= {RSS_RATIO:g}x at "
        f"{small.identities:,}"
    )
    if not (small.complete and big.complete):
        harness.verdict(False, label, f"incomplete runs: {small.summary()}; {big.summary()}")
        return
    ratio = big.tree_rss_mib / small.tree_rss_mib
    harness.verdict(
        ratio <= RSS_RATIO,
        label,
        f"{big.tree_rss_mib:.1f} / {small.tree_rss_mib:.1f} MiB = {ratio:.2f}x "
        f"({big.delivered:,} records in {big.wall_s:.1f} s)",
    )


# -- command line ------------------------------------------------------------------------------

BENCHES: Final = {
    "goodput": goodput,
    "follow": follow,
    "cpu": cpu,
    "memory": memory,
    "org": org,
    "apply": apply_changes,
    "suppressions": suppressions,
}


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def _clients(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in CLIENTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"clients are {', '.join(CLIENTS)}; not {unknown}")
    return names


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark asyncses against aioboto3 baselines on a local SES v2 endpoint.",
    )
    parser.add_argument(
        "bench",
        nargs="?",
        default="all",
        choices=("all", *BENCHES),
        help="all (default) = goodput, follow, cpu, memory, org, apply, suppressions",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small versions, a smoke test; no targets checked"
    )
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="the baselines' (and cpu's) concurrency"
    )
    parser.add_argument(
        "--rates",
        type=_floats,
        default=list(GOODPUT_RATES),
        metavar="R,R",
        help="goodput quotas, requests/s",
    )
    parser.add_argument(
        "--clients",
        type=_clients,
        default=["asyncses", "adaptive", "naive"],
        metavar="NAME,NAME",
        help=f"goodput clients, of {', '.join(CLIENTS)}",
    )
    parser.add_argument(
        "--asyncses-args", default="", help="extra flags for the asyncses CLI, shell-quoted"
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds per client run")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every result here")
    parser.add_argument(
        "--save", action="store_true", help=f"write the text output to {RESULTS.name}"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks asked for; return 1 if a target fails."""
    args = _parse_args(argv)
    out = Output()
    harness = Harness(args, out)
    load = os.getloadavg()[0]
    benches = list(BENCHES) if args.bench == "all" else [args.bench]
    out(
        f"asyncses benchmarks{' (--quick: no targets checked)' if args.quick else ''}: "
        f"{', '.join(benches)}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load {load:.2f} at start; endpoint and each client in their own processes"
    )
    if load > 0.5 * (os.cpu_count() or 1):
        out(f"warning: the machine is busy (load {load:.2f}); numbers will be noisy")
    for client in sorted({"asyncses", "naive", *args.clients}, key=CLIENTS.index):
        out(f"  {LABELS[client]}: {DESCRIPTIONS[client]}")
    out(f"  baselines run at concurrency {args.concurrency}; every client signs as key 'bench'")
    started = time.monotonic()
    for bench in benches:
        BENCHES[bench](harness)
    out()
    out(f"== targets ({time.monotonic() - started:.0f} s in all) ==")
    if args.quick:
        crashed = [run for run in harness.runs if run.crashed]
        out(f"quick run: targets not checked; {len(harness.runs)} runs, {len(crashed)} crashed")
        for run in crashed:
            out(f"  crashed: {run.bench} {LABELS[run.client]}: {run.note}")
        failed = bool(crashed)
    else:
        for line in harness.verdicts:
            out(line)
        failed = any(line.startswith("FAIL") for line in harness.verdicts)
    if args.json is not None:
        payload = {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "targets": harness.verdicts,
            "runs": [
                {
                    **asdict(run),
                    "goodput": run.goodput,
                    "throttled_share": run.throttled_share,
                    "cpu_ms_per_get": run.cpu_ms_per_get,
                    "net_cpu_ms_per_get": run.net_cpu_ms_per_get,
                    "complete": run.complete,
                }
                for run in harness.runs
            ],
        }
        args.json.write_text(json.dumps(payload, indent=1))
    if args.save:
        RESULTS.write_text("\n".join(out.lines) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
