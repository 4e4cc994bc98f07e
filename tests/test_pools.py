"""The dedicated IP pool audit against the moto endpoint: library and command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from moto.sesv2.models import sesv2_backends

import asyncses
from asyncses.local import DEFAULT_ACCOUNT, LocalSES
from asyncses.local._state import extras_of

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, read_ndjson, run_cli

OTHER_REGION = "eu-west-1"
#: A fixed pace far above what the local endpoint serves: no cautious start to wait for.
FAST = 2000.0
#: GetDedicatedIpPool (one pool), not ListDedicatedIpPools (``...pools?PageSize=``).
GET_POOL = r"^GET /v2/email/dedicated-ip-pools/"


def backend_pools(region: str = REGION) -> dict[str, Any]:
    """moto's pool objects, by name."""
    pools: dict[str, Any] = sesv2_backends[DEFAULT_ACCOUNT][region].core_backend.dedicated_ip_pools
    return pools


def backend_ips(pool: str, region: str = REGION) -> list[dict[str, Any]]:
    """The dedicated IPs the backend holds for ``pool``, in their stored order."""
    ips = extras_of(sesv2_backends[DEFAULT_ACCOUNT][region]).dedicated_ips.values()
    return [ip.to_dict() for ip in ips if ip.pool_name == pool]


async def audit(ses: LocalSES, *, with_ips: bool = False, **settings: Any) -> list[dict[str, Any]]:
    """Every record of a library pool audit against ``ses``."""
    settings.setdefault("regions", [REGION])
    settings.setdefault("endpoint_url", ses.url)
    settings.setdefault("rate", FAST)
    async with asyncses.Client(**settings) as client:
        return [dict(r) async for r in client.dedicated_ip_pools(with_ips=with_ips)]


async def test_pools_over_several_pages_carry_each_scaling_mode(ses: LocalSES) -> None:
    """11 pools over 6 pages of 2: each pool once, with the ScalingMode the backend holds."""
    names = ses.seed_pools(REGION, 11)
    with FaultProxy(ses.url) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, page_size=2)
        paths = [entry.path for entry in proxy.stats.log]
    assert sorted(r["PoolName"] for r in records) == sorted(names)
    backend = backend_pools()
    for record in records:
        assert set(record) == {"type", "region", "PoolName", "ScalingMode", "error"}
        assert record["type"] == "dedicated_ip_pool"
        assert record["region"] == REGION
        assert record["error"] is None
        assert record["ScalingMode"] == backend[record["PoolName"]].scaling_mode
    assert {r["ScalingMode"] for r in records} == {"STANDARD", "MANAGED"}
    lists = [p for p in paths if p.startswith("/v2/email/dedicated-ip-pools?")]
    assert len(lists) == -(-len(names) // 2)
    assert all("PageSize=2" in p for p in lists)
    assert len(paths) - len(lists) == len(names)


async def test_with_ips_lists_every_ip_of_each_pool_over_pages(ses: LocalSES) -> None:
    """--with-ips pages through GetDedicatedIps: every IP of each pool, as the backend holds it."""
    names = ses.seed_pools(REGION, 5, ips_per_pool=5)
    records = await audit(ses, with_ips=True, page_size=2)
    assert sorted(r["PoolName"] for r in records) == sorted(names)
    for record in records:
        expected = backend_ips(record["PoolName"])
        assert sorted(record["DedicatedIps"], key=lambda ip: ip["Ip"]) == sorted(
            expected, key=lambda ip: ip["Ip"]
        )
        assert record["error"] is None
        if record["ScalingMode"] == "MANAGED":
            assert record["DedicatedIps"] == []
        else:
            assert len(record["DedicatedIps"]) == 5
            assert all(
                set(ip) == {"Ip", "WarmupStatus", "WarmupPercentage", "PoolName"}
                for ip in record["DedicatedIps"]
            )
    statuses = {ip["WarmupStatus"] for r in records for ip in r["DedicatedIps"]}
    assert {"DONE", "IN_PROGRESS", "NOT_APPLICABLE"} <= statuses


async def test_pools_of_several_regions_name_their_region(ses: LocalSES) -> None:
    """Each region's pools come back once, tagged with that region."""
    east = ses.seed_pools(REGION, 3, prefix="east")
    west = ses.seed_pools(OTHER_REGION, 4, prefix="west")
    records = await audit(ses, regions=[REGION, OTHER_REGION], page_size=2)
    by_region = {
        region: sorted(r["PoolName"] for r in records if r["region"] == region)
        for region in (REGION, OTHER_REGION)
    }
    assert by_region == {REGION: sorted(east), OTHER_REGION: sorted(west)}
    west_modes = backend_pools(OTHER_REGION)
    for record in records:
        if record["region"] == OTHER_REGION:
            assert record["ScalingMode"] == west_modes[record["PoolName"]].scaling_mode


async def test_pool_lookups_run_concurrently(ses: LocalSES) -> None:
    """12 GetDedicatedIpPool calls slowed to 0.3 s each finish in well under 12 x 0.3 s."""
    names = ses.seed_pools(REGION, 12)
    with FaultProxy(ses.url, Faults(latency=0.3, match=GET_POOL)) as proxy:
        started = time.monotonic()
        records = await audit(ses, endpoint_url=proxy.url, concurrency=12)
        elapsed = time.monotonic() - started
    assert sorted(r["PoolName"] for r in records) == sorted(names)
    assert elapsed < len(names) * 0.3 / 2  # sequential would take the whole 12 x 0.3 s


async def test_failed_pool_lookup_is_an_error_record(ses: LocalSES) -> None:
    """A pool whose GetDedicatedIpPool fails for good keeps its name and carries the error."""
    names = ses.seed_pools(REGION, 4)
    broken = names[1]
    faults = Faults(error=1.0, match=f"^GET /v2/email/dedicated-ip-pools/{broken}$")
    with FaultProxy(ses.url, faults) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, max_attempts=2)
    by_name = {r["PoolName"]: r for r in records}
    assert sorted(by_name) == sorted(names)
    assert by_name[broken]["error"] == {
        "code": "InternalFailure",
        "message": "injected",
        "operation": "GetDedicatedIpPool",
        "attempts": 2,
    }
    assert "ScalingMode" not in by_name[broken]
    assert all(by_name[n]["error"] is None for n in names if n != broken)
    assert proxy.stats.errors == 2


async def test_pool_deleted_between_list_and_get_is_an_error_record(ses: LocalSES) -> None:
    """A pool gone before its lookup keeps its name and a NotFound error; the rest go on."""
    names = ses.seed_pools(REGION, 5)
    gone = names[2]

    def delete_before_lookup(account: str, region: str, params: dict[str, Any]) -> None:
        if params["PoolName"] == gone:
            sesv2_backends[account][region].core_backend.dedicated_ip_pools.pop(gone)

    ses.before("GetDedicatedIpPool", delete_before_lookup)
    records = await audit(ses)
    by_name = {r["PoolName"]: r for r in records}
    assert sorted(by_name) == sorted(names)
    assert by_name[gone]["error"]["code"] == "NotFoundException"
    assert by_name[gone]["error"]["operation"] == "GetDedicatedIpPool"
    assert by_name[gone]["error"]["attempts"] == 1
    assert "ScalingMode" not in by_name[gone]
    assert [n for n, r in by_name.items() if r["error"] is not None] == [gone]


async def test_failed_ip_listing_is_an_error_record_of_its_pool(ses: LocalSES) -> None:
    """with_ips: a pool whose GetDedicatedIps fails for good carries the error, no IP list."""
    names = ses.seed_pools(REGION, 3, ips_per_pool=2)
    broken = names[0]
    faults = Faults(error=1.0, match=f"^GET /v2/email/dedicated-ips\\?.*PoolName={broken}")
    with FaultProxy(ses.url, faults) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, with_ips=True, max_attempts=2)
    by_name = {r["PoolName"]: r for r in records}
    assert by_name[broken]["error"] == {
        "code": "InternalFailure",
        "message": "injected",
        "operation": "GetDedicatedIps",
        "attempts": 2,
    }
    assert "DedicatedIps" not in by_name[broken]
    assert by_name[broken]["ScalingMode"] == "STANDARD"  # what was fetched is kept
    assert all(by_name[n]["error"] is None and "DedicatedIps" in by_name[n] for n in names[1:])


def test_cli_pools_with_ips_and_small_pages(ses: LocalSES, tmp_path: Path) -> None:
    """`asyncses pools --with-ips --page-size 2` writes one exact record per pool and exits 0."""
    names = ses.seed_pools(REGION, 7, ips_per_pool=3)
    report = tmp_path / "pools.ndjson"
    result = run_cli(
        "pools",
        "--endpoint-url",
        ses.url,
        "--region",
        REGION,
        "--page-size",
        "2",
        "--with-ips",
        "--no-progress",
        "-o",
        str(report),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    records = read_ndjson(report)
    assert sorted(r["PoolName"] for r in records) == sorted(names)
    backend = backend_pools()
    for record in records:
        assert set(record) == {"type", "region", "PoolName", "ScalingMode", "DedicatedIps", "error"}
        assert record["type"] == "dedicated_ip_pool"
        assert record["ScalingMode"] == backend[record["PoolName"]].scaling_mode
        assert sorted(ip["Ip"] for ip in record["DedicatedIps"]) == sorted(
            ip["Ip"] for ip in backend_ips(record["PoolName"])
        )
        assert record["error"] is None


async def test_pool_record_fields_come_in_documented_order(ses: LocalSES) -> None:
    """A pool record reads head, API fields, then what asyncses adds (``error`` last)."""
    ses.seed_pools(REGION, 1, ips_per_pool=1)
    [record] = await audit(ses, with_ips=True)
    assert list(record) == ["type", "region", "PoolName", "ScalingMode", "DedicatedIps", "error"]
