"""The usual ways to audit SES v2 email identities, as baselines for asyncses.

Each baseline lists every identity (``ListEmailIdentities``, ``PageSize=1000``, following
``NextToken``), calls ``GetEmailIdentity`` for each, and writes an NDJSON report shaped like
asyncses's, so the harness counts every client the same way: a first line
``{"type":"run",...}``, one ``{"type":"email_identity",...,"error":null}`` record per identity
(``"error"`` is ``{"code","message","operation","attempts"}`` when its lookup failed for good),
and a last line ``{"type":"run_end","records":N,"errors":E}``. A listing that fails gives one
error record with ``"IdentityName": null``. The exit code is 0 with no error records, else 1.

* ``naive``: one aioboto3 client, ``asyncio.Semaphore(concurrency)`` and ``asyncio.gather``,
  botocore's defaults (legacy retry mode: 5 attempts), as such code is usually written.
* ``adaptive``: the same with botocore's adaptive retry mode,
  ``AioConfig(retries={"mode": "adaptive", "max_attempts": 10})``: the client-side rate
  limiter a careful user would pick.
* ``threads``: one boto3 client shared by a ``ThreadPoolExecutor(concurrency)``.
* ``sequential``: a plain boto3 loop.
* ``apply-adaptive`` (``--plan PLAN``): the changes of an asyncses plan, each as the usual
  script makes it: ``GetEmailIdentity``, then, if the identity is still as the plan saw it,
  the change's call; aioboto3, a semaphore and gather, adaptive retry mode. It writes one
  ``{"type":"outcome","change":ID,"status":S,"error":...}`` line per change (``applied``,
  ``already``, ``drifted`` or ``failed``), like ``asyncses apply``; exit 0 when none failed.

Every client gets ``max_pool_connections=concurrency``, static dummy credentials (key id
``bench``) and imports boto3/aioboto3 lazily, so a process pays only for the library it uses.

Run one in its own process (what :mod:`benchmarks.run` does)::

    python -m benchmarks.baselines naive --endpoint-url http://127.0.0.1:8000 -o out.ndjson
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from aiobotocore.config import AioConfig
    from types_aiobotocore_sesv2.client import SESV2Client

__all__ = ["APPLY_BASELINES", "BASELINES", "Report", "main"]

ACCESS_KEY: Final = "bench"
SECRET_KEY: Final = "bench"
PAGE_SIZE: Final = 1000
DEFAULT_CONCURRENCY: Final = 32

Info = dict[str, Any]


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def error_of(exc: BaseException, operation: str) -> dict[str, Any]:
    """The ``error`` member of a record, from a botocore ``ClientError`` or any exception."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        retries = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        return {
            "code": str(error.get("Code", type(exc).__name__)),
            "message": str(error.get("Message", exc)),
            "operation": getattr(exc, "operation_name", operation),
            "attempts": retries + 1,
        }
    return {"code": type(exc).__name__, "message": str(exc), "operation": operation, "attempts": 1}


class Report:
    """Writes the NDJSON report: the run line, one record per identity, the run end."""

    def __init__(self, handle: IO[str], client: str, region: str, endpoint: str) -> None:
        self._handle = handle
        self._region = region
        self.records = 0
        self.errors = 0
        head = {"type": "run", "client": client, "regions": [region], "endpoint": endpoint}
        handle.write(json.dumps(head) + "\n")

    def record(self, info: Info | None, body: Info | None, error: dict[str, Any] | None) -> None:
        """One identity: its list entry, its lookup's answer or the error that ended it."""
        record: Info = {"type": "email_identity", "region": self._region}
        record.update(info or {"IdentityName": None})
        record["error"] = error
        if body is not None:
            record.update((k, v) for k, v in body.items() if k != "ResponseMetadata")
        self._handle.write(json.dumps(record, default=_json_default) + "\n")
        self.records += 1
        self.errors += error is not None

    def end(self) -> None:
        """The last line."""
        end = {"type": "run_end", "records": self.records, "errors": self.errors}
        self._handle.write(json.dumps(end) + "\n")


# -- aioboto3 ---------------------------------------------------------------------------------


async def _list_async(client: SESV2Client) -> list[Info]:
    """Return every identity's list entry, following ``NextToken``."""
    infos: list[Info] = []
    token: str | None = None
    while True:
        if token:
            page = await client.list_email_identities(PageSize=PAGE_SIZE, NextToken=token)
        else:
            page = await client.list_email_identities(PageSize=PAGE_SIZE)
        infos.extend(dict(info) for info in page.get("EmailIdentities", []))
        token = page.get("NextToken")
        if not token:
            return infos


async def _aioboto3(
    config: AioConfig, concurrency: int, endpoint_url: str, region: str, report: Report
) -> None:
    import aioboto3

    session = aioboto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    )
    async with session.client("sesv2", endpoint_url=endpoint_url, config=config) as client:
        try:
            infos = await _list_async(client)
        except Exception as exc:  # the listing failed: one error record says so
            report.record(None, None, error_of(exc, "ListEmailIdentities"))
            return
        semaphore = asyncio.Semaphore(concurrency)
        pace = _Pace(PACE) if PACE else None

        async def describe(info: Info) -> None:
            async with semaphore:
                if pace is not None:
                    await pace.slot()
                try:
                    body = await client.get_email_identity(EmailIdentity=info["IdentityName"])
                except Exception as exc:  # recorded, as asyncses records a failed lookup
                    report.record(info, None, error_of(exc, "GetEmailIdentity"))
                else:
                    report.record(info, dict(body), None)

        await asyncio.gather(*(describe(info) for info in infos))


#: ``--rate R``: the aioboto3 baselines send their lookups at most R a second (the simplest
#: pacer: one lock, a sleep until the next slot), to measure what pacing itself costs a
#: client's CPU beside asyncses at the same fixed rate. ``None``: as fast as they go.
PACE: float | None = None


class _Pace:
    """Slots ``1 / rate`` apart, one caller at a time."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def slot(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            wait = self._next - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = max(self._next, loop.time() - self._interval) + self._interval


def naive(endpoint_url: str, region: str, concurrency: int, report: Report) -> None:
    """aioboto3, a semaphore and gather, botocore's default (legacy) retries."""
    from aiobotocore.config import AioConfig

    config = AioConfig(max_pool_connections=concurrency)
    asyncio.run(_aioboto3(config, concurrency, endpoint_url, region, report))


def adaptive(endpoint_url: str, region: str, concurrency: int, report: Report) -> None:
    """aioboto3, a semaphore and gather, botocore's adaptive retry mode (10 attempts)."""
    from aiobotocore.config import AioConfig

    config = AioConfig(
        max_pool_connections=concurrency, retries={"mode": "adaptive", "max_attempts": 10}
    )
    asyncio.run(_aioboto3(config, concurrency, endpoint_url, region, report))


# -- boto3 ------------------------------------------------------------------------------------


def _boto3_client(endpoint_url: str, region: str, max_pool_connections: int) -> Any:
    """Create a boto3 ``sesv2`` client with static dummy credentials."""
    import boto3  # type: ignore[import-untyped]  # boto3-stubs is not a dependency
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    )
    config = Config(max_pool_connections=max_pool_connections)
    return session.client("sesv2", endpoint_url=endpoint_url, config=config)


def _list_sync(client: Any) -> Iterator[Info]:
    """Yield every identity's list entry, following ``NextToken``."""
    kwargs: dict[str, Any] = {"PageSize": PAGE_SIZE}
    while True:
        page = client.list_email_identities(**kwargs)
        yield from page.get("EmailIdentities", [])
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def _describe_sync(client: Any, info: Info) -> tuple[Info, Info | None, dict[str, Any] | None]:
    try:
        return info, client.get_email_identity(EmailIdentity=info["IdentityName"]), None
    except Exception as exc:  # recorded, as asyncses records a failed lookup
        return info, None, error_of(exc, "GetEmailIdentity")


def threads(endpoint_url: str, region: str, concurrency: int, report: Report) -> None:
    """One boto3 client shared by a thread pool."""
    client = _boto3_client(endpoint_url, region, concurrency)
    try:
        infos = list(_list_sync(client))
    except Exception as exc:  # the listing failed: one error record says so
        report.record(None, None, error_of(exc, "ListEmailIdentities"))
        return
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for info, body, error in pool.map(lambda info: _describe_sync(client, info), infos):
            report.record(info, body, error)


def sequential(endpoint_url: str, region: str, concurrency: int, report: Report) -> None:
    """A boto3 loop, one call at a time (``concurrency`` is ignored)."""
    client = _boto3_client(endpoint_url, region, 10)
    try:
        infos = list(_list_sync(client))
    except Exception as exc:  # the listing failed: one error record says so
        report.record(None, None, error_of(exc, "ListEmailIdentities"))
        return
    for info in infos:
        report.record(*_describe_sync(client, info))


BASELINES: Final[dict[str, Callable[[str, str, int, Report], None]]] = {
    "naive": naive,
    "adaptive": adaptive,
    "threads": threads,
    "sequential": sequential,
}


# -- apply: a plan's changes, each re-read then written ---------------------------------------


def _field(item: Info, path: str) -> Any:
    """A field of an answer by dotted path (``None`` when absent)."""
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _holds(condition: Info, item: Info) -> bool:
    """Whether ``item`` meets a plan's condition (``equal`` and ``absent`` paths)."""
    equal = condition.get("equal") or {}
    absent = condition.get("absent") or []
    return all(_field(item, path) == value for path, value in equal.items()) and all(
        _field(item, path) is None for path in absent
    )


def _method_name(operation: str) -> str:
    """``PutEmailIdentityFeedbackAttributes`` -> ``put_email_identity_feedback_attributes``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


class Outcomes:
    """Writes the outcome lines of an apply, and its run end."""

    def __init__(self, handle: IO[str], client: str, endpoint: str) -> None:
        self._handle = handle
        self.records = 0
        self.failed = 0
        head = {"type": "run", "client": client, "record_type": "outcome", "endpoint": endpoint}
        handle.write(json.dumps(head) + "\n")

    def outcome(self, change: Info, status: str, error: dict[str, Any] | None = None) -> None:
        """One change's outcome."""
        line = {"type": "outcome", "change": change.get("id"), "status": status, "error": error}
        self._handle.write(json.dumps(line) + "\n")
        self.records += 1
        self.failed += status == "failed"

    def end(self) -> None:
        """The last line."""
        end = {"type": "run_end", "records": self.records, "errors": self.failed}
        self._handle.write(json.dumps(end) + "\n")


def read_changes(path: str) -> list[Info]:
    """The ``change`` lines of an asyncses plan file."""
    with open(path, encoding="utf-8") as handle:
        lines = (json.loads(line) for line in handle if line.strip())
        return [line for line in lines if line.get("type") == "change"]


async def _apply_async(
    config: AioConfig,
    concurrency: int,
    endpoint_url: str,
    region: str,
    changes: list[Info],
    outcomes: Outcomes,
) -> None:
    import aioboto3

    session = aioboto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    )
    async with session.client("sesv2", endpoint_url=endpoint_url, config=config) as client:
        semaphore = asyncio.Semaphore(concurrency)

        async def change_one(change: Info) -> None:
            async with semaphore:
                name = change["target"]["name"]
                try:
                    current = dict(await client.get_email_identity(EmailIdentity=name))
                except Exception as exc:  # recorded, as asyncses records a failed re-read
                    outcomes.outcome(change, "failed", error_of(exc, "GetEmailIdentity"))
                    return
                if _holds(change["want"], current):
                    outcomes.outcome(change, "already")
                    return
                if not _holds(change["expect"], current):
                    outcomes.outcome(change, "drifted")
                    return
                call = change["call"]
                method = getattr(client, _method_name(call["operation"]))
                try:
                    await method(**call["params"])
                except Exception as exc:  # recorded, as asyncses records a failed write
                    outcomes.outcome(change, "failed", error_of(exc, call["operation"]))
                else:
                    outcomes.outcome(change, "applied")

        await asyncio.gather(*(change_one(change) for change in changes))


def apply_adaptive(
    endpoint_url: str, region: str, concurrency: int, changes: list[Info], outcomes: Outcomes
) -> None:
    """A plan's changes: re-read, then the call; aioboto3, adaptive retry mode."""
    from aiobotocore.config import AioConfig

    config = AioConfig(
        max_pool_connections=concurrency, retries={"mode": "adaptive", "max_attempts": 10}
    )
    asyncio.run(_apply_async(config, concurrency, endpoint_url, region, changes, outcomes))


APPLY_BASELINES: Final[dict[str, Callable[[str, str, int, list[Info], Outcomes], None]]] = {
    "apply-adaptive": apply_adaptive,
}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.baselines", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("name", choices=[*BASELINES, *APPLY_BASELINES])
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("-o", "--output", required=True, help="NDJSON report")
    parser.add_argument("--plan", help="an asyncses plan (apply-adaptive)")
    parser.add_argument(
        "--rate", type=float, help="naive/adaptive: send lookups at most R a second (a pacer)"
    )
    args = parser.parse_args(argv)
    if (args.name in APPLY_BASELINES) != (args.plan is not None):
        parser.error("--plan goes with apply-adaptive, and only with it")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run one baseline; return 0 if every lookup (or change) succeeded, else 1."""
    global PACE
    args = _parse_args(argv)
    PACE = args.rate
    if args.name in APPLY_BASELINES:
        changes = read_changes(args.plan)
        with open(args.output, "w", encoding="utf-8") as handle:
            outcomes = Outcomes(handle, args.name, args.endpoint_url)
            APPLY_BASELINES[args.name](
                args.endpoint_url, args.region, args.concurrency, changes, outcomes
            )
            outcomes.end()
        return 0 if outcomes.failed == 0 else 1
    with open(args.output, "w", encoding="utf-8") as handle:
        report = Report(handle, args.name, args.region, args.endpoint_url)
        BASELINES[args.name](args.endpoint_url, args.region, args.concurrency, report)
        report.end()
    return 0 if report.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
