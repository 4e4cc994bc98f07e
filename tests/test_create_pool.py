"""Creating a dedicated IP pool: SES's tag rules checked before any call, then the create."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

import anyio
import orjson
import pytest
from moto.sesv2.models import sesv2_backends

import asyncses
from asyncses.cli import main
from asyncses.local import DEFAULT_ACCOUNT, LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, run_cli

#: CreateDedicatedIpPool (``POST /v2/email/dedicated-ip-pools``).
CREATE = r"^POST /v2/email/dedicated-ip-pools$"

GOOD_TAGS: dict[str, dict[str, str]] = {
    "none": {},
    "fifty tags": {f"key-{i:02d}": f"value {i}" for i in range(50)},
    "key of 128 characters": {"k" * 128: "v"},
    "value of 256 characters": {"k": "v" * 256},
    "lengths count characters, not bytes": {"é" * 128: "ü" * 256},
    "empty value": {"empty": ""},
    "unicode letters and digits": {"Größe": "标签", "٣٤": "४२", "Ωmega": "ﬁne"},
    "white space": {"cost center": "mail ops team"},
    "every allowed symbol": {"a_b.c:d/e=f+g-h": "_.:/=+-"},
    "keys are case-sensitive": {"Env": "prod", "env": "dev", "ENV": "test"},
    "aws: not at the start": {"team-aws:x": "v"},
}

BAD_TAGS: dict[str, tuple[dict[str, Any], str]] = {
    "51 tags": ({f"key-{i:02d}": "v" for i in range(51)}, "51 tags"),
    "empty key": ({"": "v"}, "tag key ''"),
    "key of 129 characters": ({"k" * 129: "v"}, "k" * 129),
    "value of 257 characters": ({"long": "v" * 257}, "'long'"),
    "aws: key": ({"aws:team": "mail"}, "'aws:team'"),
    "AWS: key in capitals": ({"AWS:Team": "mail"}, "'AWS:Team'"),
    "@ in key": ({"owner@example": "me"}, "'owner@example'"),
    "comma in key": ({"a,b": "v"}, "'a,b'"),
    "# in value": ({"hash": "a#b"}, "'hash'"),
    "emoji in value": ({"mood": "ok 🙂"}, "'mood'"),
    "quote in value": ({"quote": 'say "hi"'}, "'quote'"),
    "control character in value": ({"ctl": "a\x1fb"}, "'ctl'"),
    "value not a string": ({"count": 3}, "'count'"),
}


def client_at(url: str, **options: Any) -> asyncses.Client:
    """A client for REGION at ``url``, at a fixed pace far above what the local endpoint
    serves (no cautious start to wait for)."""
    return asyncses.Client(regions=[REGION], endpoint_url=url, rate=2000.0, **options)


def backend_pools(region: str = REGION) -> dict[str, Any]:
    """moto's pool objects, by name."""
    pools: dict[str, Any] = sesv2_backends[DEFAULT_ACCOUNT][region].core_backend.dedicated_ip_pools
    return pools


def as_tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """A mapping of tags in the ``[{"Key": ..., "Value": ...}]`` shape SES stores."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tag_args(tags: Mapping[str, str]) -> list[str]:
    """``--tag KEY=VALUE`` arguments for ``tags``."""
    return [arg for key, value in tags.items() for arg in ("--tag", f"{key}={value}")]


@pytest.fixture
def proxy(ses: LocalSES) -> Iterator[FaultProxy]:
    """A pass-through proxy in front of the endpoint, counting every request."""
    with FaultProxy(ses.url) as running:
        yield running


@pytest.mark.parametrize("scaling_mode", ["STANDARD", "MANAGED"])
async def test_create_returns_the_pool_and_stores_mode_and_tags(
    ses: LocalSES, scaling_mode: str
) -> None:
    """The created pool comes back as GetDedicatedIpPool shows it; mode and tags are stored."""
    tags = {"team": "mail ops", "cost-center": "42"}
    async with client_at(ses.url) as client:
        record = await client.create_dedicated_ip_pool("outbound", scaling_mode, tags)
    assert dict(record) == {
        "type": "dedicated_ip_pool",
        "region": REGION,
        "PoolName": "outbound",
        "ScalingMode": scaling_mode,
        "error": None,
    }
    pool = backend_pools()["outbound"]
    assert pool.scaling_mode == scaling_mode
    assert pool.tags == as_tag_list(tags)


async def test_create_defaults_to_standard_without_tags(ses: LocalSES) -> None:
    """Without a mode or tags the pool is STANDARD and untagged."""
    async with client_at(ses.url) as client:
        record = await client.create_dedicated_ip_pool("plain")
    assert record["ScalingMode"] == "STANDARD"
    assert backend_pools()["plain"].scaling_mode == "STANDARD"
    assert not backend_pools()["plain"].tags


@pytest.mark.parametrize("tags", list(GOOD_TAGS.values()), ids=list(GOOD_TAGS))
async def test_tags_within_ses_rules_are_sent_as_given(ses: LocalSES, tags: dict[str, str]) -> None:
    """Tags inside every SES rule pass validation and reach the backend unchanged."""
    async with client_at(ses.url) as client:
        await client.create_dedicated_ip_pool("tagged", "MANAGED", tags)
    assert (backend_pools()["tagged"].tags or []) == as_tag_list(tags)


@pytest.mark.parametrize(("tags", "named"), list(BAD_TAGS.values()), ids=list(BAD_TAGS))
async def test_tags_breaking_a_rule_are_refused_before_any_call(
    ses: LocalSES, proxy: FaultProxy, tags: dict[str, Any], named: str
) -> None:
    """A tag breaking any SES rule raises UsageError naming it; no request is sent."""
    async with client_at(proxy.url) as client:
        with pytest.raises(asyncses.UsageError) as info:
            await client.create_dedicated_ip_pool("tagged", "STANDARD", tags)
        assert client.stats.calls == 0
    message = str(info.value)
    assert named in message
    assert "\n" not in message
    assert proxy.stats.requests == 0
    assert "tagged" not in backend_pools()


@pytest.mark.parametrize(
    ("name", "scaling_mode", "message"),
    [
        ("p", "BURST", "invalid scaling mode 'BURST'"),
        ("p", "", "invalid scaling mode ''"),
        ("", "STANDARD", "pool name must not be empty"),
    ],
)
async def test_bad_scaling_mode_or_name_is_refused_before_any_call(
    ses: LocalSES, proxy: FaultProxy, name: str, scaling_mode: str, message: str
) -> None:
    """A scaling mode other than STANDARD/MANAGED, or an empty name, is a UsageError."""
    async with client_at(proxy.url) as client:
        with pytest.raises(asyncses.UsageError, match=re.escape(message)):
            await client.create_dedicated_ip_pool(name, scaling_mode)
    assert proxy.stats.requests == 0
    assert backend_pools() == {}


async def test_duplicate_raises_already_exists_and_keeps_the_pool(ses: LocalSES) -> None:
    """Creating a pool that exists raises AlreadyExistsError; the existing pool is untouched."""
    [name] = ses.seed_pools(REGION, 1)
    async with client_at(ses.url) as client:
        with pytest.raises(asyncses.AlreadyExistsError) as info:
            await client.create_dedicated_ip_pool(name, "MANAGED", {"new": "tag"})
    assert info.value.operation == "CreateDedicatedIpPool"
    assert info.value.key == name
    assert backend_pools()[name].scaling_mode == "STANDARD"
    assert not backend_pools()[name].tags


async def test_duplicate_is_reported_even_after_a_throttled_attempt(ses: LocalSES) -> None:
    """A throttled first attempt changes nothing, so a later AlreadyExists is a real duplicate."""
    [name] = ses.seed_pools(REGION, 1)
    with FaultProxy(ses.url, Faults(throttle=1.0, match=CREATE)) as proxy:

        async def sleep(_seconds: float) -> None:
            proxy.faults = Faults()  # the retry goes through

        policy = asyncses.RetryPolicy(max_attempts=3, sleep=sleep)
        async with client_at(proxy.url, retry_policy=policy) as client:
            with pytest.raises(asyncses.AlreadyExistsError):
                await client.create_dedicated_ip_pool(name, "MANAGED")
    assert backend_pools()[name].scaling_mode == "STANDARD"


async def test_pool_created_by_someone_else_meanwhile_is_a_duplicate(ses: LocalSES) -> None:
    """A pool that appears between the existence check and the create is AlreadyExists."""
    with FaultProxy(ses.url, Faults(latency=0.5, match=CREATE)) as proxy:
        async with client_at(proxy.url) as client:

            async def create_elsewhere() -> None:
                # The check (GET) is answered and the create (POST) is held by the proxy.
                seen = await anyio.to_thread.run_sync(
                    lambda: proxy.stats.wait_for(lambda s: s.requests == 2)
                )
                assert seen
                ses.seed_pools(REGION, 1, prefix="raced")

            async with anyio.create_task_group() as tg:
                tg.start_soon(create_elsewhere)
                with pytest.raises(asyncses.AlreadyExistsError) as info:
                    await client.create_dedicated_ip_pool("raced-000", "MANAGED")
        statuses = proxy.stats.statuses()
    assert info.value.attempts == 1
    assert statuses == [404, 400]
    assert backend_pools()["raced-000"].scaling_mode == "STANDARD"


async def test_an_applied_but_unanswered_attempt_is_found_by_the_re_read(ses: LocalSES) -> None:
    """A create answered 500 that did create the pool: the re-read before sending it again
    finds the pool, so the create is sent once and counts as done."""
    with FaultProxy(ses.url, Faults(error=1.0, match=CREATE)) as proxy:

        async def sleep(_seconds: float) -> None:
            ses.seed_pools(REGION, 1, prefix="applied")  # as if the failed attempt had landed
            proxy.faults = Faults()

        policy = asyncses.RetryPolicy(max_attempts=3, sleep=sleep)
        async with client_at(proxy.url, retry_policy=policy) as client:
            record = await client.create_dedicated_ip_pool("applied-000", "STANDARD")
        creates = [e.status for e in proxy.stats.log if e.method == "POST"]
    assert record["PoolName"] == "applied-000"
    assert record["error"] is None
    assert creates == [500]
    assert backend_pools()["applied-000"].scaling_mode == "STANDARD"


async def test_a_create_that_did_not_happen_is_sent_again(ses: LocalSES) -> None:
    """A create answered 500 that created nothing: re-read, not there, sent again."""
    with FaultProxy(ses.url, Faults(error=1.0, match=CREATE)) as proxy:

        async def sleep(_seconds: float) -> None:
            proxy.faults = Faults()

        policy = asyncses.RetryPolicy(max_attempts=3, sleep=sleep)
        async with client_at(proxy.url, retry_policy=policy) as client:
            record = await client.create_dedicated_ip_pool("again-000", "MANAGED")
        creates = [e.status for e in proxy.stats.log if e.method == "POST"]
    assert record["PoolName"] == "again-000" and record["ScalingMode"] == "MANAGED"
    assert creates == [500, 200]


async def test_a_create_failing_every_time_gives_up_after_max_attempts(ses: LocalSES) -> None:
    """Every create answered 500: sent max_attempts times, then the error is raised."""
    with FaultProxy(ses.url, Faults(error=1.0, match=CREATE)) as proxy:
        policy = asyncses.RetryPolicy(max_attempts=3, base_delay=0.0)
        async with client_at(proxy.url, retry_policy=policy) as client:
            with pytest.raises(asyncses.ServiceError) as info:
                await client.create_dedicated_ip_pool("never-000", "MANAGED")
        creates = [e.status for e in proxy.stats.log if e.method == "POST"]
    assert creates == [500, 500, 500]
    assert info.value.attempts == 3
    assert "never-000" not in backend_pools()


async def test_create_that_lands_but_answers_500_is_a_success(ses: LocalSES) -> None:
    """The server creates the pool, then answers 500: the retry's AlreadyExists is success."""
    creates = 0

    def land_then_fail(account: str, region: str, params: dict[str, Any]) -> None:
        nonlocal creates
        creates += 1
        if creates == 1:
            ses.seed_pools(region, 1, prefix="landed", account_id=account)
            raise RuntimeError("answered 500 after the pool was stored")

    ses.before("CreateDedicatedIpPool", land_then_fail)
    async with client_at(ses.url) as client:
        record = await client.create_dedicated_ip_pool("landed-000", "STANDARD")
    assert creates == 1  # the re-read found it: not sent again
    assert record["PoolName"] == "landed-000" and record["error"] is None


# -- command line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--tag", "novalue"], "'novalue'"),
        (["--tag", "k=a", "--tag", "k=b"], "'k'"),
        (["--tag", "=v"], "tag key ''"),
        (["--tag", "aws:owner=me"], "'aws:owner'"),
        (["--tag", "owner@example=me"], "'owner@example'"),
        (["--tag", "long=" + "v" * 257], "'long'"),
        (tag_args({f"key-{i:02d}": "v" for i in range(51)}), "51 tags"),
        (["--scaling-mode", "BURST"], "'BURST'"),
    ],
    ids=[
        "no =",
        "repeated key",
        "empty key",
        "aws: key",
        "@ in key",
        "value of 257",
        "51 tags",
        "scaling mode",
    ],
)
def test_cli_bad_value_exits_2_naming_it_without_a_call(
    ses: LocalSES,
    proxy: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    named: str,
) -> None:
    """A bad tag or mode exits 2 with one stderr line naming it, and sends no request."""
    code = main(["create-pool", "p", "--endpoint-url", proxy.url, "--region", REGION, *args])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("asyncses: error:")
    assert named in lines[0]
    assert proxy.stats.requests == 0
    assert backend_pools() == {}


def test_cli_prints_one_json_line_and_stores_the_tags(ses: LocalSES) -> None:
    """create-pool prints the created pool as one JSON line; tags split at the first '='."""
    result = run_cli(
        "create-pool",
        "outbound",
        "--endpoint-url",
        ses.url,
        "--region",
        REGION,
        "--scaling-mode",
        "MANAGED",
        "--tag",
        "team=mail ops",
        "--tag",
        "expr=a=b",
        "--tag",
        "empty=",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert orjson.loads(lines[0]) == {
        "type": "dedicated_ip_pool",
        "region": REGION,
        "PoolName": "outbound",
        "ScalingMode": "MANAGED",
        "error": None,
    }
    pool = backend_pools()["outbound"]
    assert pool.scaling_mode == "MANAGED"
    assert pool.tags == as_tag_list({"team": "mail ops", "expr": "a=b", "empty": ""})


def test_cli_duplicate_exits_1_with_a_clear_message(ses: LocalSES) -> None:
    """create-pool of an existing name exits 1, says so on stderr, prints nothing."""
    [name] = ses.seed_pools(REGION, 1)
    result = run_cli("create-pool", name, "--endpoint-url", ses.url, "--region", REGION)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"a dedicated IP pool named {name!r} already exists" in result.stderr
    assert backend_pools()[name].scaling_mode == "STANDARD"


def test_cli_bad_tag_fails_at_once_even_with_no_endpoint(ses: LocalSES) -> None:
    """With the endpoint's port closed, a bad tag still exits 2 at once with the tag message."""
    closed = "http://127.0.0.1:9"  # discard port: nothing listens there
    started = time.monotonic()
    result = run_cli("create-pool", "p", "--endpoint-url", closed, "--tag", "aws:x=1")
    assert result.returncode == 2
    assert "'aws:x'" in result.stderr
    assert time.monotonic() - started < 10
