"""The usual ways to audit SES v2 email identities, as baselines for asyncses.

Each baseline lists every identity (``ListEmailIdentities``, ``PageSize=1000``, following
``NextToken``), calls ``GetEmailIdentity`` for each, and returns the number of records:

* :func:`boto3_sequential`: a plain boto3 loop.
* :func:`boto3_threads`: one boto3 client shared by a ``ThreadPoolExecutor(64)``.
* :func:`aioboto3_gather`: one aioboto3 client, ``asyncio.Semaphore(64)`` and ``asyncio.gather``.

They use botocore's defaults otherwise (legacy retry mode), as such code usually does, and
import boto3/aioboto3 lazily so a child process only pays for the library it uses.

Run one in its own process (what :mod:`benchmarks.run` does)::

    python -m benchmarks.baselines aioboto3 --endpoint-url http://127.0.0.1:8000 --result out.json
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from types_aiobotocore_sesv2.client import SESV2Client

__all__ = ["BASELINES", "aioboto3_gather", "boto3_sequential", "boto3_threads"]

ACCESS_KEY: Final = "bench"
SECRET_KEY: Final = "bench"
PAGE_SIZE: Final = 1000
DEFAULT_CONCURRENCY: Final = 64


def _boto3_client(endpoint_url: str, region: str, max_pool_connections: int) -> Any:
    """Create a boto3 ``sesv2`` client with static dummy credentials."""
    import boto3  # type: ignore[import-untyped]  # boto3-stubs is not a dependency
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    )
    config = Config(max_pool_connections=max_pool_connections)
    return session.client("sesv2", endpoint_url=endpoint_url, config=config)


def _list_names_sync(client: Any) -> Iterator[str]:
    """Yield every identity name, following ``NextToken``."""
    kwargs: dict[str, Any] = {"PageSize": PAGE_SIZE}
    while True:
        page = client.list_email_identities(**kwargs)
        for info in page.get("EmailIdentities", []):
            yield info["IdentityName"]
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def boto3_sequential(endpoint_url: str, region: str, concurrency: int = DEFAULT_CONCURRENCY) -> int:
    """List then describe every identity one call at a time; ``concurrency`` is ignored."""
    client = _boto3_client(endpoint_url, region, max_pool_connections=10)
    records = [
        client.get_email_identity(EmailIdentity=name) for name in list(_list_names_sync(client))
    ]
    return len(records)


def boto3_threads(endpoint_url: str, region: str, concurrency: int = DEFAULT_CONCURRENCY) -> int:
    """List, then describe every identity from a thread pool sharing one client."""
    client = _boto3_client(endpoint_url, region, max_pool_connections=concurrency)
    names = list(_list_names_sync(client))

    def describe(name: str) -> Any:
        return client.get_email_identity(EmailIdentity=name)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        records = list(pool.map(describe, names))
    return len(records)


async def _aioboto3_gather(endpoint_url: str, region: str, concurrency: int) -> int:
    import aioboto3
    from aiobotocore.config import AioConfig

    session = aioboto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    )
    config = AioConfig(max_pool_connections=concurrency)
    async with session.client("sesv2", endpoint_url=endpoint_url, config=config) as client:
        names = await _list_names_async(client)
        semaphore = asyncio.Semaphore(concurrency)

        async def describe(name: str) -> Any:
            async with semaphore:
                return await client.get_email_identity(EmailIdentity=name)

        records = await asyncio.gather(*(describe(name) for name in names))
    return len(records)


async def _list_names_async(client: SESV2Client) -> list[str]:
    """Return every identity name, following ``NextToken``."""
    names: list[str] = []
    token: str | None = None
    while True:
        if token:
            page = await client.list_email_identities(PageSize=PAGE_SIZE, NextToken=token)
        else:
            page = await client.list_email_identities(PageSize=PAGE_SIZE)
        names.extend(info["IdentityName"] for info in page.get("EmailIdentities", []))
        token = page.get("NextToken")
        if not token:
            return names


def aioboto3_gather(endpoint_url: str, region: str, concurrency: int = DEFAULT_CONCURRENCY) -> int:
    """List, then describe every identity with one aioboto3 client, a semaphore and gather."""
    return asyncio.run(_aioboto3_gather(endpoint_url, region, concurrency))


BASELINES: Final[dict[str, Callable[[str, str, int], int]]] = {
    "aioboto3": aioboto3_gather,
    "threads": boto3_threads,
    "sequential": boto3_sequential,
}

_IMPORTS: Final = {"aioboto3": "aioboto3", "threads": "boto3", "sequential": "boto3"}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.baselines", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("name", choices=sorted(BASELINES))
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--result", help="write a JSON result here (default: stdout)")
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of the run here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one baseline and report ``{"records", "work_wall_s", "work_cpu_s", "error"}``."""
    args = _parse_args(argv)
    __import__(_IMPORTS[args.name])  # import cost is startup, not work
    baseline = BASELINES[args.name]
    profiler = cProfile.Profile() if args.profile else None
    result: dict[str, Any] = {"records": 0, "error": None}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        if profiler is not None:
            profiler.enable()
        result["records"] = baseline(args.endpoint_url, args.region, args.concurrency)
    except Exception as exc:  # reported to the harness in the result, not hidden
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    result["work_wall_s"] = time.perf_counter() - wall
    result["work_cpu_s"] = time.process_time() - cpu
    text = json.dumps(result)
    if args.result:
        with open(args.result, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text + "\n")
    return 0 if result["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
