"""Lookups in child processes: same records, all of them, even if a child dies."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import asyncses
import asyncses._shard as shard
from asyncses._endpoint import LocalSES

from .helpers import REGION


async def audit(ses: LocalSES, **settings: Any) -> tuple[list[dict[str, Any]], asyncses.Client]:
    async with asyncses.Client(regions=[REGION], endpoint_url=ses.url, **settings) as client:
        records = [dict(r) async for r in client.email_identities()]
    return records, client


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start children after 10 listed identities instead of 1,000."""
    monkeypatch.setattr(shard, "SHARD_THRESHOLD", 10)


@pytest.mark.usefixtures("low_threshold")
async def test_children_return_the_same_records(ses: LocalSES) -> None:
    """An audit spread over two processes equals the one-process audit, record for record."""
    ses.seed_identities(REGION, 120, seed=4)
    alone, _ = await audit(ses, concurrency=8, page_size=20)
    spread, client = await audit(ses, concurrency=8, page_size=20, processes=2)
    assert client.stats.processes == 1
    assert client.stats.calls == 120 + 6  # the child's counters are merged in
    key = lambda r: r["IdentityName"]  # noqa: E731
    assert sorted(spread, key=key) == sorted(alone, key=key)


async def test_small_runs_stay_in_one_process(ses: LocalSES) -> None:
    """Below the threshold no child is started."""
    ses.seed_identities(REGION, 30)
    records, client = await audit(ses, concurrency=8, processes=4)
    assert len(records) == 30
    assert client.stats.processes == 0


@pytest.mark.usefixtures("low_threshold")
async def test_a_child_that_dies_loses_nothing(
    ses: LocalSES, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killing the child mid-run: its items are looked up by the parent; none missing."""
    names = ses.seed_identities(REGION, 150)
    started: list[Any] = []
    real_start = shard._Shard.start

    async def start(self: Any, task_group: Any) -> None:
        await real_start(self, task_group)
        started.append(self)

    monkeypatch.setattr(shard._Shard, "start", start)
    async with asyncses.Client(
        regions=[REGION], endpoint_url=ses.url, concurrency=8, page_size=20, processes=2
    ) as client:
        records = []
        async for record in client.email_identities():
            records.append(record)
            if len(records) == 40 and started:
                started[0]._process.kill()
                await anyio.sleep(0.1)
    assert started, "the child never started"
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None for r in records)


async def test_no_children_with_a_fixed_rate_or_own_session(ses: LocalSES) -> None:
    """A fixed rate is one shared budget and a caller's session cannot travel: one process."""
    import aioboto3

    fixed = asyncses.Client(regions=[REGION], processes=4, rate=50)
    session = aioboto3.Session(aws_access_key_id="a", aws_secret_access_key="b")
    own = asyncses.Client(regions=[REGION], processes=4, session=session)
    assert fixed.shard_children() == 0
    assert own.shard_children() == 0
    assert asyncses.Client(regions=[REGION], processes=4, concurrency=32).shard_children() == 3


def test_processes_must_be_positive() -> None:
    """processes=0 is a usage error."""
    with pytest.raises(asyncses.UsageError, match="processes"):
        asyncses.Client(processes=0)


@pytest.mark.usefixtures("low_threshold")
async def test_a_client_reused_after_an_early_break_finishes_its_next_run(ses: LocalSES) -> None:
    """Leaving a run between pages does not leave the next run waiting for it."""
    names = ses.seed_identities(REGION, 60)
    async with asyncses.Client(
        regions=[REGION], endpoint_url=ses.url, concurrency=8, page_size=10, processes=2
    ) as client:
        async with client.email_identities() as stream:
            async for _ in stream:
                break
        with anyio.fail_after(60):
            records = [r async for r in client.email_identities()]
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
