"""Benchmark asyncses against the usual SES v2 clients on a lean local endpoint.

One command::

    python -m benchmarks.run                       # throughput tables, then goodput
    python -m benchmarks.run throughput --identities 4000 --only asyncses aioboto3
    python -m benchmarks.run goodput               # token bucket 150 req/s, burst 10
    python -m benchmarks.run profile --profile-client aioboto3   # cProfile top 20

The endpoint (:mod:`benchmarks.lean_endpoint`) runs in its own process. Every client runs in
its own fresh process, reaped with ``os.wait4`` so its CPU time and peak RSS are its own:

* ``wall``: the client process from spawn to exit (interpreter start and imports included);
* ``active``: first SES request to last answer, as the endpoint saw it; ``calls/s`` is
  (list pages + GetEmailIdentity calls) / active;
* ``CPU ms/get``: the process's user+system CPU per GetEmailIdentity call, ``net`` after
  subtracting the CPU of a process that only imports the client's library, ``total`` not;
* ``RSS``: the process's peak resident set (``ru_maxrss``).

asyncses runs as a user runs it: ``python -m asyncses identities ... -o FILE``; its output
lines are counted and checked for errors.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.lean_endpoint import EndpointConfig, EndpointProcess

ROOT: Final = Path(__file__).resolve().parent.parent
CLIENTS: Final = ("asyncses", "aioboto3", "threads", "sequential")
LABELS: Final = {
    "asyncses": "asyncses CLI",
    "aioboto3": "aioboto3 + Semaphore + gather",
    "threads": "boto3 + ThreadPoolExecutor",
    "sequential": "boto3 sequential loop",
}
# What a process of each client imports before its first request (its "startup").
STARTUP_IMPORTS: Final = {
    "asyncses": "import asyncses.cli, aioboto3",
    "aioboto3": "import aioboto3",
    "threads": "import boto3",
    "sequential": "import boto3",
}
TARGET_IDENTITIES: Final = 4000
TARGET_RATIOS: Final = {"aioboto3": 1.5, "threads": 2.5, "sequential": 25.0}
TARGET_CPU_MS: Final = 1.2
TARGET_RSS_RATIO: Final = 1.25
GOODPUT_RATE: Final = 150.0
GOODPUT_BURST: Final = 10
GOODPUT_SHARE: Final = 0.85
THROTTLE_SHARE: Final = 0.10


def _log(message: str) -> None:
    """Progress goes to stderr so stdout holds only the report."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Measured:
    """What ``os.wait4`` says about one child process."""

    returncode: int
    wall_s: float
    cpu_s: float
    maxrss_mib: float
    stderr_tail: str = ""


@dataclass
class Result:
    """One client run against one endpoint configuration."""

    client: str
    identities: int
    ok: bool = False
    note: str = ""
    records: int = 0
    errors: int = 0
    wall_s: float = 0.0
    active_s: float = 0.0
    cpu_s: float = 0.0
    startup_cpu_s: float = 0.0
    maxrss_mib: float = 0.0
    endpoint: dict[str, Any] = field(default_factory=dict)

    @property
    def gets(self) -> int:
        """GetEmailIdentity calls the endpoint received (throttled ones included)."""
        return int(self.endpoint.get("gets", 0))

    @property
    def calls(self) -> int:
        """List pages plus GetEmailIdentity calls the endpoint received."""
        return int(self.endpoint.get("list_pages", 0)) + self.gets

    @property
    def calls_per_s(self) -> float:
        """Calls per second over the endpoint-observed active span."""
        return self.calls / self.active_s if self.active_s > 0 else 0.0

    @property
    def cpu_ms_per_get(self) -> float:
        """Client CPU per GetEmailIdentity, whole process."""
        return 1000 * self.cpu_s / self.gets if self.gets else 0.0

    @property
    def net_cpu_ms_per_get(self) -> float:
        """Client CPU per GetEmailIdentity, less the library-import startup."""
        return 1000 * max(0.0, self.cpu_s - self.startup_cpu_s) / self.gets if self.gets else 0.0

    @property
    def goodput(self) -> float:
        """Successful GetEmailIdentity answers per second over the active span."""
        ok = int(self.endpoint.get("gets_ok", 0))
        return ok / self.active_s if self.active_s > 0 else 0.0

    @property
    def throttle_share(self) -> float:
        """Share of the requests the endpoint answered with 429."""
        requests = int(self.endpoint.get("requests", 0))
        return int(self.endpoint.get("throttled", 0)) / requests if requests else 0.0


def _child_env(region: str) -> dict[str, str]:
    """Environment for client processes: dummy static credentials, no local AWS config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def spawn_measured(command: Sequence[str], env: dict[str, str], timeout: float) -> Measured:
    """Run ``command`` to completion; return its own wall time, CPU time and peak RSS."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        tail = stderr.read().decode(errors="replace")[-2000:]
    return Measured(
        returncode=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        maxrss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        stderr_tail=tail,
    )


class Harness:
    """Runs clients in fresh processes against lean endpoints and collects results."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Keep the parsed command line; probe whether asyncses is importable."""
        self.args = args
        self.region: str = args.region
        self.env = _child_env(self.region)
        self._startup: dict[str, float] = {}
        probe = subprocess.run(
            [sys.executable, "-c", "import asyncses; asyncses.Client"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.asyncses_missing = ""
        if probe.returncode != 0:
            self.asyncses_missing = (probe.stderr.strip().splitlines() or ["import failed"])[-1]

    def startup_cpu(self, client: str) -> float:
        """CPU seconds of a process that only imports ``client``'s library (best of 3)."""
        if client not in self._startup:
            command = [sys.executable, "-c", STARTUP_IMPORTS[client]]
            runs = [spawn_measured(command, self.env, 60) for _ in range(3)]
            self._startup[client] = min(run.cpu_s for run in runs if run.returncode == 0)
        return self._startup[client]

    def _command(self, client: str, url: str, output: Path) -> list[str]:
        concurrency = str(self.args.concurrency)
        if client == "asyncses":
            return [
                sys.executable,
                "-m",
                "asyncses",
                "identities",
                "--region",
                self.region,
                "--endpoint-url",
                url,
                "--concurrency",
                concurrency,
                "-o",
                str(output),
                *shlex.split(self.args.asyncses_args),
            ]
        return [
            sys.executable,
            "-m",
            "benchmarks.baselines",
            client,
            "--endpoint-url",
            url,
            "--region",
            self.region,
            "--concurrency",
            concurrency,
            "--result",
            str(output),
        ]

    def run_client(self, client: str, endpoint: EndpointProcess) -> Result:
        """Run ``client`` once, in a fresh process, against ``endpoint``."""
        identities = endpoint.config.identities
        result = Result(client, identities)
        if client == "asyncses" and self.asyncses_missing:
            result.note = f"skipped: asyncses not importable ({self.asyncses_missing})"
            return result
        result.startup_cpu_s = self.startup_cpu(client)
        _log(f"  {LABELS[client]} @ {identities:,} identities ...")
        endpoint.reset()
        with tempfile.TemporaryDirectory(prefix="asyncses-bench-") as tmp:
            output = Path(tmp) / ("identities.jsonl" if client == "asyncses" else "result.json")
            measured = spawn_measured(
                self._command(client, endpoint.url, output), self.env, self.args.timeout
            )
            result.endpoint = endpoint.reset()
            distinct = -1
            if client == "asyncses":
                result.records, result.errors, distinct = _count_jsonl(output)
            elif output.exists():
                data = json.loads(output.read_text())
                result.records = int(data["records"])
                if data.get("error"):
                    result.errors = 1
                    result.note = str(data["error"])[:200]
        result.wall_s = measured.wall_s
        result.cpu_s = measured.cpu_s
        result.maxrss_mib = measured.maxrss_mib
        result.active_s = float(result.endpoint.get("span_s", 0.0))
        result.ok = measured.returncode == 0 and result.errors == 0
        if result.ok and result.records != identities:
            result.ok = False
            result.note = f"{result.records:,} records for {identities:,} identities"
        if result.ok and distinct not in (-1, identities):
            result.ok = False
            result.note = f"{distinct:,} distinct identities in {result.records:,} records"
        if measured.returncode != 0 and not result.note:
            last = measured.stderr_tail.strip().splitlines()
            result.note = f"exit {measured.returncode}: {last[-1] if last else ''}"[:200]
        return result

    def run_best(self, client: str, endpoint: EndpointProcess) -> Result:
        """Run ``client`` ``--repeat`` times; keep the run with the median calls/s."""
        runs = [self.run_client(client, endpoint) for _ in range(self.args.repeat)]
        if len(runs) == 1 or not runs[0].endpoint:
            return runs[0]
        runs.sort(key=lambda run: run.calls_per_s)
        return runs[len(runs) // 2]


def _count_jsonl(path: Path) -> tuple[int, int, int]:
    """Count records, failed records (``"error"`` not null) and distinct ``IdentityName``s."""
    if not path.exists():
        return 0, 0, 0
    records = errors = 0
    names: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            records += 1
            try:
                record = json.loads(line)
            except ValueError:
                errors += 1
                continue
            if not isinstance(record, dict):
                continue
            if record.get("error") is not None:
                errors += 1
            name = record.get("IdentityName")
            if isinstance(name, str):
                names.add(name)
    return records, errors, len(names)


def _fmt_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Format rows as a plain-text table, first column left-aligned, the others right."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = (str(cell).rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _throughput_table(results: Sequence[Result]) -> None:
    """Print one throughput table, its notes, and the endpoint's own CPU cost."""
    rows = []
    notes = []
    for r in results:
        if r.note:
            notes.append(f"  {LABELS[r.client]}: {r.note}")
        if not r.endpoint or r.gets == 0:
            rows.append([LABELS[r.client], "failed" if r.endpoint else "skipped", *["-"] * 7])
            continue
        rows.append(
            [
                LABELS[r.client],
                f"{r.records:,}" + ("" if r.ok else " !"),
                f"{r.wall_s:.2f}",
                f"{r.active_s:.2f}",
                f"{r.calls_per_s:,.0f}",
                f"{r.net_cpu_ms_per_get:.3f}",
                f"{r.cpu_ms_per_get:.3f}",
                f"{r.maxrss_mib:.1f}",
                f"{r.endpoint.get('max_in_flight', 0)}",
            ]
        )
    headers = [
        "client",
        "records",
        "wall s",
        "active s",
        "calls/s",
        "CPU ms/get net",
        "total",
        "peak RSS MiB",
        "in flight",
    ]
    for text in _fmt_table(headers, rows):
        _out(text)
    for note in notes:
        _out(note)
    served = [r.endpoint for r in results if r.endpoint]
    requests = sum(int(e.get("requests", 0)) for e in served)
    cpu = sum(float(e.get("server_cpu_s", 0.0)) for e in served)
    if requests:
        _out(f"  (endpoint process CPU: {1e6 * cpu / requests:.0f} us/request over {requests:,})")


def throughput(harness: Harness) -> tuple[list[Result], list[str]]:
    """Run the throughput tables; return all results and the target verdict lines."""
    args = harness.args
    counts: list[int] = args.identities
    all_results: list[Result] = []
    by_count: dict[int, dict[str, Result]] = {}
    rss_only = (
        "asyncses" in args.only and args.rss_base not in counts and not harness.asyncses_missing
    )
    plan: list[tuple[int, list[str]]] = [(n, list(args.only)) for n in counts]
    if rss_only:
        plan.insert(0, (args.rss_base, ["asyncses"]))
    for count, clients in plan:
        config = EndpointConfig(identities=count, latency=args.latency)
        with EndpointProcess(config) as endpoint:
            _log(f"endpoint {endpoint.url} (pid {endpoint.pid}), {count:,} identities")
            results = []
            for client in clients:
                if client == "sequential" and count > args.skip_sequential_above:
                    results.append(
                        Result(
                            client,
                            count,
                            note=f"skipped above {args.skip_sequential_above:,} identities "
                            f"(~{count * args.latency / 60:.0f} min); --skip-sequential-above",
                        )
                    )
                    continue
                results.append(harness.run_best(client, endpoint))
        by_count[count] = {r.client: r for r in results}
        all_results.extend(results)
        _out()
        _out(
            f"== {count:,} identities, latency {1000 * args.latency:.0f} ms, "
            f"concurrency {args.concurrency} =="
        )
        _throughput_table(results)
        mine = by_count[count].get("asyncses")
        if mine is not None and _usable(mine):
            ratios = [
                f"{mine.calls_per_s / other.calls_per_s:.2f}x {LABELS[name]}"
                for name, other in by_count[count].items()
                if name != "asyncses" and _usable(other)
            ]
            if ratios:
                _out("asyncses throughput: " + ", ".join(ratios))
    return all_results, _throughput_targets(by_count, args)


def _usable(result: Result | None) -> bool:
    """Whether ``result`` is a complete, error-free run."""
    return result is not None and result.ok and result.gets > 0


def _why_not(result: Result | None) -> str:
    """Say why ``result`` cannot be judged."""
    if result is None or not result.endpoint:
        return result.note if result is not None and result.note else "not run"
    return f"run failed ({result.note or 'incomplete'})"


def _throughput_targets(
    by_count: dict[int, dict[str, Result]], args: argparse.Namespace
) -> list[str]:
    """Judge the throughput, CPU and RSS targets (FAIL if asyncses ran and failed)."""
    lines: list[str] = []
    at = by_count.get(TARGET_IDENTITIES, {})
    mine = at.get("asyncses")
    mine_failed = mine is not None and bool(mine.endpoint) and not _usable(mine)
    where = f"{TARGET_IDENTITIES:,} ids / {1000 * args.latency:.0f} ms / c={args.concurrency}"
    for name, goal in TARGET_RATIOS.items():
        label = f"throughput >= {goal:g}x {LABELS[name]} ({where})"
        other = at.get(name)
        if mine_failed:
            lines.append(f"FAIL  {label}: asyncses {_why_not(mine)}")
        elif mine is None or not _usable(mine) or other is None or not _usable(other):
            culprit = mine if not _usable(mine) else other
            lines.append(f"N/A   {label}: {_why_not(culprit)}")
        else:
            ratio = mine.calls_per_s / other.calls_per_s
            lines.append(f"{_verdict(ratio >= goal)}  {label}: {ratio:.2f}x")
    label = f"client CPU <= {TARGET_CPU_MS} ms per GetEmailIdentity ({where})"
    if mine is None or not _usable(mine):
        lines.append(f"{'FAIL' if mine_failed else 'N/A '}  {label}: asyncses {_why_not(mine)}")
    else:
        cpu = mine.net_cpu_ms_per_get
        lines.append(
            f"{_verdict(cpu <= TARGET_CPU_MS)}  {label}: {cpu:.3f} ms net of startup "
            f"({mine.cpu_ms_per_get:.3f} ms for the whole process)"
        )
    big = by_count.get(20_000, {}).get("asyncses")
    base = by_count.get(args.rss_base, {}).get("asyncses")
    label = f"peak RSS at 20,000 identities <= {TARGET_RSS_RATIO}x at {args.rss_base:,}"
    if big is None or base is None or not _usable(big) or not _usable(base):
        failed = any(r is not None and r.endpoint and not _usable(r) for r in (big, base))
        why = _why_not(big if not _usable(big) else base)
        lines.append(f"{'FAIL' if failed else 'N/A '}  {label}: asyncses {why}")
    else:
        ratio = big.maxrss_mib / base.maxrss_mib
        lines.append(
            f"{_verdict(ratio <= TARGET_RSS_RATIO)}  {label}: {big.maxrss_mib:.1f} / "
            f"{base.maxrss_mib:.1f} MiB = {ratio:.2f}x"
        )
    return lines


def goodput(harness: Harness) -> tuple[list[Result], list[str]]:
    """Run clients against a token-bucket endpoint; return results and target verdicts."""
    args = harness.args
    count: int = args.goodput_identities
    clients = [c for c in args.only if c in ("asyncses", "aioboto3")]
    config = EndpointConfig(count, args.latency, rate=GOODPUT_RATE, burst=GOODPUT_BURST)
    results: list[Result] = []
    with EndpointProcess(config) as endpoint:
        _log(f"endpoint {endpoint.url} (pid {endpoint.pid}), token bucket {GOODPUT_RATE:g}/s")
        results = [harness.run_client(client, endpoint) for client in clients]
    _out()
    _out(
        f"== goodput: {count:,} identities, token bucket {GOODPUT_RATE:g} req/s burst "
        f"{GOODPUT_BURST}, latency {1000 * args.latency:.0f} ms, concurrency {args.concurrency} =="
    )
    rows = []
    notes = []
    for r in results:
        if r.note:
            notes.append(f"  {LABELS[r.client]}: {r.note}")
        if not r.endpoint or r.gets == 0:
            rows.append([LABELS[r.client], "failed" if r.endpoint else "skipped", *["-"] * 6])
            continue
        rows.append(
            [
                LABELS[r.client],
                f"{r.records:,}/{count:,}",
                f"{r.errors:,}",
                f"{r.active_s:.1f}",
                f"{r.goodput:.1f}",
                f"{100 * r.goodput / GOODPUT_RATE:.0f}%",
                f"{100 * r.throttle_share:.1f}%",
                f"{int(r.endpoint.get('requests', 0)):,}",
            ]
        )
    headers = [
        "client",
        "delivered",
        "errors",
        "active s",
        "goodput/s",
        f"of {GOODPUT_RATE:g}",
        "throttled",
        "requests",
    ]
    for text in _fmt_table(headers, rows):
        _out(text)
    for note in notes:
        _out(note)
    for r in results:
        timeline = r.endpoint.get("timeline") or []
        if timeline:
            _out(f"  {LABELS[r.client]}, per second, GetEmailIdentity 200s/429s:")
            cells = [f"{ok}/{throttled}" for ok, throttled in timeline]
            for start in range(0, len(cells), 12):
                _out("    " + " ".join(cell.rjust(7) for cell in cells[start : start + 12]))
    mine = next((r for r in results if r.client == "asyncses"), None)
    lines: list[str] = []
    if mine is None or not _usable(mine):
        failed = mine is not None and bool(mine.endpoint)
        lines.append(f"{'FAIL' if failed else 'N/A '}  goodput targets: asyncses {_why_not(mine)}")
        return results, lines
    floor = GOODPUT_SHARE * GOODPUT_RATE
    lines.append(
        f"{_verdict(mine.goodput >= floor)}  goodput >= {floor:g}/s "
        f"({GOODPUT_SHARE:.0%} of {GOODPUT_RATE:g}): {mine.goodput:.1f}/s"
    )
    lines.append(
        f"{_verdict(mine.throttle_share <= THROTTLE_SHARE)}  throttled <= {THROTTLE_SHARE:.0%} "
        f"of requests: {100 * mine.throttle_share:.1f}%"
    )
    delivered = mine.records == count and mine.errors == 0 and mine.ok
    lines.append(
        f"{_verdict(delivered)}  every identity delivered without error: "
        f"{mine.records:,}/{count:,} records, {mine.errors:,} errors"
    )
    return results, lines


_STDLIB: Final = Path(os.__file__).resolve().parent


def _group(filename: str) -> str:
    """Name the package (or stdlib module) a profiled function belongs to."""
    if filename == "~" or filename.startswith("<"):
        return "(C builtins)"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    path = Path(filename).resolve()
    if path.is_relative_to(ROOT):
        return path.relative_to(ROOT).parts[0]
    if path.is_relative_to(_STDLIB):
        return "stdlib " + path.relative_to(_STDLIB).parts[0].removesuffix(".py")
    return "(other)"


# Steps of one botocore API call, as (file suffix, function) candidates; the largest wins.
_STEPS: Final = (
    ("API call (_make_api_call)", (("botocore/client.py", "_make_api_call"),)),
    ("  HTTP send + receive", (("botocore/endpoint.py", "_send"),)),
    ("  response parsing", (("botocore/parsers.py", "parse"),)),
    ("  endpoint rules resolution", (("botocore/regions.py", "construct_endpoint"),)),
    ("  User-Agent header", (("botocore/useragent.py", "to_string"),)),
    ("  SigV4 signing", (("botocore/auth.py", "add_auth"),)),
    ("  serialization", (("botocore/serialize.py", "serialize_to_request"),)),
    ("  parameter validation", (("botocore/validate.py", "validate"),)),
    ("event loop select/poll", (("~", "<method 'poll' of 'select.epoll' objects>"),)),
)


def profile(harness: Harness) -> None:
    """Run one client under cProfile and print its top 20 functions and CPU by package."""
    args = harness.args
    client: str = args.profile_client
    count = args.identities[0]
    with tempfile.TemporaryDirectory(prefix="asyncses-prof-") as tmp:
        stats_path = Path(tmp) / "client.prof"
        out = Path(tmp) / "out"
        with EndpointProcess(EndpointConfig(count, args.latency)) as endpoint:
            command = harness._command(client, endpoint.url, out)
            if client == "asyncses":
                command[1:1] = ["-m", "cProfile", "-o", str(stats_path)]
            else:
                command += ["--profile", str(stats_path)]
            _log(f"profiling {LABELS[client]} @ {count:,} identities ...")
            measured = spawn_measured(command, harness.env, args.timeout)
            served = endpoint.reset()
        if not stats_path.exists():
            _out(f"profile failed: exit {measured.returncode}: {measured.stderr_tail[-500:]}")
            return
        stats = pstats.Stats(str(stats_path))
        raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]  # undocumented
        total = sum(float(entry[2]) for entry in raw.values())
        gets = max(1, int(served.get("gets", 0)))
        _out()
        _out(
            f"== cProfile of {LABELS[client]}: {count:,} identities, {gets:,} gets, "
            f"{total:.2f} s profiled CPU ({1000 * total / gets:.2f} ms/get under cProfile) =="
        )
        _out("-- CPU by package (tottime, top 15) --")
        by_group: dict[str, float] = {}
        for (filename, _line, _name), entry in raw.items():
            by_group[_group(filename)] = by_group.get(_group(filename), 0.0) + float(entry[2])
        rows = [
            [name, f"{seconds:.2f}", f"{100 * seconds / total:.1f}%", f"{1e6 * seconds / gets:.0f}"]
            for name, seconds in sorted(by_group.items(), key=lambda kv: -kv[1])[:15]
        ]
        for text in _fmt_table(["package", "tottime s", "share", "us/get"], rows):
            _out(text)
        _out("-- cumulative CPU of selected steps (they nest) --")
        rows = []
        for label, candidates in _STEPS:
            cumulative = max(
                (
                    float(entry[3])
                    for (filename, _line, name), entry in raw.items()
                    for suffix, function in candidates
                    if name == function and filename.endswith(suffix)
                ),
                default=0.0,
            )
            if cumulative:
                share = f"{100 * cumulative / total:.1f}%"
                rows.append([label, f"{cumulative:.2f}", share, f"{1e6 * cumulative / gets:.0f}"])
        for text in _fmt_table(["step", "cumtime s", "share", "us/get"], rows):
            _out(text)
        _out("-- top 20 functions by tottime --")
        top = sorted(raw.items(), key=lambda kv: -float(kv[1][2]))[:20]
        rows = []
        for (filename, line, name), entry in top:
            where = f"{_short(filename)}:{line}({name})" if filename != "~" else name
            rows.append(
                [where[-90:], f"{entry[1]:,}", f"{entry[2]:.3f}", f"{1e6 * entry[2] / gets:.1f}"]
            )
        for text in _fmt_table(["function", "ncalls", "tottime s", "us/get"], rows):
            _out(text)


def _short(filename: str) -> str:
    """Shorten a profiled file name to its path inside site-packages or the stdlib."""
    for marker in ("site-packages/", "python3.11/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _int_list(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark asyncses against boto3/aioboto3 baselines on a local endpoint.",
    )
    parser.add_argument(
        "mode",
        nargs="?",
        default="all",
        choices=("all", "throughput", "goodput", "profile"),
        help="all = throughput then goodput (default)",
    )
    parser.add_argument("--identities", type=_int_list, default=[4000, 20_000], metavar="N,N")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--only", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--skip-sequential-above", type=int, default=4000, metavar="N")
    parser.add_argument(
        "--rss-base",
        type=int,
        default=2000,
        metavar="N",
        help="asyncses-only run whose peak RSS the 20,000-identity run is compared to",
    )
    parser.add_argument("--goodput-identities", type=int, default=3000, metavar="N")
    parser.add_argument("--repeat", type=int, default=1, help="runs per client; keeps the median")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per client run")
    parser.add_argument(
        "--asyncses-args", default="", help="extra flags for the asyncses CLI, shell-quoted"
    )
    parser.add_argument("--profile-client", choices=CLIENTS, default="aioboto3")
    parser.add_argument("--json", type=Path, help="also write every result here")
    args = parser.parse_args(argv)
    args.only = [client for client in CLIENTS if client in args.only]  # canonical order
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the requested benchmarks; exit 1 if a target fails."""
    args = _parse_args(argv)
    harness = Harness(args)
    load = os.getloadavg()[0]
    _out(
        f"asyncses benchmarks: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load {load:.2f}, client and endpoint in separate processes"
    )
    if load > 0.5 * (os.cpu_count() or 1):
        _out(f"warning: the machine is busy (load {load:.2f}); numbers will be noisy")
    if harness.asyncses_missing:
        _out(f"asyncses is not importable: {harness.asyncses_missing} (its runs are skipped)")
    if args.mode == "profile":
        profile(harness)
        return 0
    verdicts: list[str] = []
    results: list[Result] = []
    if args.mode in ("all", "throughput"):
        found, lines = throughput(harness)
        results += found
        verdicts += lines
    if args.mode in ("all", "goodput"):
        found, lines = goodput(harness)
        results += found
        verdicts += lines
    _out()
    _out("== targets ==")
    for line in verdicts:
        _out(line)
    if args.json is not None:
        payload = [
            {**asdict(r), "calls_per_s": r.calls_per_s, "cpu_ms_per_get": r.cpu_ms_per_get}
            for r in results
        ]
        args.json.write_text(json.dumps(payload, indent=2))
    return 1 if any(line.startswith("FAIL") for line in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
