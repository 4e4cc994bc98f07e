"""A lookup process: ``python -m asyncses._worker``, started by :mod:`asyncses._shard`.

It reads its settings and then ``[id, item]`` lines on stdin, runs the same lookup function
as the parent on a pool of its own, writes ``[id, record]`` lines on stdout, and a last
``["stats", {...}]`` line once stdin is closed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import anyio
import orjson

from ._client import Client
from ._identities import make_lookup
from ._pool import Workers, run_pool
from ._records import EMAIL_IDENTITY
from ._shard import MAX_LINE, STATS, Lookup

#: Record type -> the factory of its lookup function.
LOOKUPS: dict[str, Callable[..., Lookup]] = {EMAIL_IDENTITY: make_lookup}


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    # Writes go through the loop: a full pipe (a busy parent) pauses the writer, not the loop.
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, sys.stdout.buffer
    )
    out = asyncio.StreamWriter(transport, protocol, None, loop)
    settings = orjson.loads(await reader.readline())
    client = Client(**settings["client"])
    async with client:
        client.account = settings["account"]
        lookup = LOOKUPS[settings["kind"]](client, **settings["options"])

        async def items() -> Any:
            while line := await reader.readline():
                yield orjson.loads(line)

        async def work(message: list[Any]) -> bytes:
            ident, item = message
            return orjson.dumps([ident, await lookup(item)], option=orjson.OPT_APPEND_NEWLINE)

        send, recv = anyio.create_memory_object_stream[bytes](client.concurrency)
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_pool, [items()], [Workers(work, client.concurrency)], send)
            async with recv:
                async for line in recv:
                    if transport.is_closing():
                        tg.cancel_scope.cancel()  # the parent is gone: nobody to answer
                        break
                    out.write(line)
                    await out.drain()
        if transport.is_closing():
            return
        stats = client.stats
        out.write(
            orjson.dumps(
                [
                    STATS,
                    {
                        "calls": stats.calls,
                        "retries": stats.retries,
                        "throttles": stats.throttles,
                        "failures": stats.failures,
                    },
                ],
                option=orjson.OPT_APPEND_NEWLINE,
            )
        )
        await out.drain()
    transport.close()


def main() -> None:
    """Entry point of a child process (``python -m asyncses._shard``)."""
    # The parent owns interruption: it closes our stdin or kills us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    options: dict[str, Any] = {}
    try:
        import uvloop  # noqa: F401  # only probing that it is there

        options["use_uvloop"] = True
    except ImportError:
        pass
    try:
        anyio.run(_serve, backend="asyncio", backend_options=options)
    except ConnectionError:
        os._exit(0)  # the parent is gone
    except BaseExceptionGroup as group:
        if group.subgroup(lambda exc: not isinstance(exc, (ConnectionError, BaseExceptionGroup))):
            raise
        os._exit(0)  # the parent is gone


if __name__ == "__main__":
    main()
