"""``--jobs N``: an audit in N local processes, each taking whole units (accounts x regions).

When the units together ask for more CPU than one event loop has (hundreds of accounts at
their quotas), the parent starts N children (:data:`CHILD`, the audit as
JSON on their stdin), each auditing the units of its part (a stable hash, like ``--shard``,
never part of one unit's items: a quota is never split). Children write NDJSON to their
stdout; the parent reads it and writes the one report, so resuming, the exit code and the
summary work as in one process. The parent resolves the credentials once and hands them to
the children (an MFA prompt is answered once; the children cannot refresh them, so a
``--jobs`` run must end before the credentials expire). Children die with the parent.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import orjson
from anyio.abc import Process
from anyio.streams.memory import MemoryObjectSendStream
from anyio.streams.text import TextReceiveStream

from ..engine.errors import UsageError
from ..engine.retry import CallStats
from ..reports.files import RUN, RUN_END
from ..ses import session as sessions
from ..settings import Settings

__all__ = ["ChildFailed", "children"]

_PR_SET_PDEATHSIG = 1


class ChildFailed(Exception):
    """A child process ended with an exit code that ends the run (``code``)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"a --jobs process exited {code}")
        self.code = code


async def _credentials_env(settings: Settings) -> dict[str, str]:
    """The environment of the children: the parent's, with the credentials resolved once."""
    if len(settings.profiles) > 1:
        raise UsageError("--jobs takes one --profile (or --org-role); run one command per profile")
    session = sessions.make_session(settings.profiles[0] if settings.profiles else None)
    await sessions.check_credentials(session)
    credentials: Any = await session.get_credentials()  # type: ignore[misc]  # async in aioboto3
    frozen = await credentials.get_frozen_credentials()
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
    env["AWS_ACCESS_KEY_ID"] = frozen.access_key
    env["AWS_SECRET_ACCESS_KEY"] = frozen.secret_key
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    region = sessions.default_region(session, given=False)
    if region and "AWS_REGION" not in env:
        env["AWS_REGION"] = region
    return env


#: A child's program. Not ``python -m asyncses.cli.jobs``: the package imports this module
#: first, and runpy warns of that on every child's stderr.
CHILD = "from asyncses.cli.jobs import child_main; raise SystemExit(child_main())"


@asynccontextmanager
async def children(
    settings: Settings,
    record_type: str,
    options: Mapping[str, Any],
    jobs: int,
    stats: CallStats,
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """Start ``jobs`` children and give their records as one async iterator.

    Their ``run_end`` lines add their calls, retries and throttles to ``stats``. A child
    that exits 2 or 3 raises :class:`ChildFailed` when the records end; leaving the block
    early terminates the children.
    """
    env = await _credentials_env(settings)
    send, receive = anyio.create_memory_object_stream[dict[str, Any]](256)
    processes: list[Process] = []
    codes: list[int] = []

    async def run_child(index: int, out: MemoryObjectSendStream[dict[str, Any]]) -> None:
        child = settings.replace(profiles=(), job=(index, jobs))
        spec = {"settings": child.to_json(), "record_type": record_type, "options": dict(options)}
        process = await anyio.open_process(
            [sys.executable, "-c", CHILD],
            stdin=-1,
            stdout=-1,
            stderr=None,
            env=env,
        )
        processes.append(process)
        async with out:
            assert process.stdin is not None and process.stdout is not None
            await process.stdin.send(json.dumps(spec).encode())
            await process.stdin.aclose()
            buffer = ""
            async for chunk in TextReceiveStream(process.stdout):
                buffer += chunk
                *lines, buffer = buffer.split("\n")
                for line in lines:
                    if not line.strip():
                        continue
                    record = orjson.loads(line)
                    kind = record.get("type")
                    if kind == RUN:
                        continue
                    if kind == RUN_END:
                        stats.calls += int(record.get("calls", 0))
                        stats.retries += int(record.get("retries", 0))
                        stats.throttles += int(record.get("throttles", 0))
                        continue
                    await out.send(record)
            codes.append(await process.wait())

    async def merged() -> AsyncIterator[dict[str, Any]]:
        async with receive:
            async for record in receive:
                yield record
        failed = [code for code in codes if code not in (0, 1)]
        if failed:
            raise ChildFailed(max(failed))

    try:
        async with anyio.create_task_group() as tg, send:
            for index in range(jobs):
                tg.start_soon(run_child, index, send.clone())
            send.close()
            yield merged()
            tg.cancel_scope.cancel()
    finally:
        for process in processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
        with anyio.CancelScope(shield=True):
            for process in processes:
                with contextlib.suppress(Exception):
                    await process.wait()


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent dies (no orphaned audits)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the closed stdout stops it instead
        pass


def child_main() -> int:
    """A ``--jobs`` child: read the audit from stdin, write its records to stdout."""
    _die_with_parent()
    parent = os.getppid()
    from . import exits, run_async
    from .audit import Audit, run_audit
    from .logs import configure_logging

    spec = json.loads(sys.stdin.read())
    if os.getppid() != parent:  # the parent died before the death signal was set
        return exits.SIGNALS[signal.SIGTERM]
    configure_logging("warning")
    try:
        settings = Settings(**spec["settings"])
        audit = Audit(
            settings=settings,
            record_type=spec["record_type"],
            options=spec["options"],
            output="-",
            progress=False,
            quiet=True,
            child=True,
        )
        return run_async(lambda: run_audit(audit))
    except (Exception, KeyboardInterrupt, BaseExceptionGroup) as exc:
        return exits.answer(exc)


if __name__ == "__main__":
    raise SystemExit(child_main())
