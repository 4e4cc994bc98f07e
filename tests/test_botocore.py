"""The per-client botocore tuning: requests and answers exactly as botocore has them."""

from __future__ import annotations

from typing import Any

import aioboto3
import pytest
from botocore.context import ClientContext, reset_context, set_context

import asyncses
from asyncses._botocore import cache_user_agent
from asyncses._endpoint import LocalSES

from .helpers import REGION


async def test_cached_user_agent_is_botocores_own() -> None:
    """The cached User-Agent equals botocore's, per feature set, and is built once per set."""
    session = aioboto3.Session(aws_access_key_id="a", aws_secret_access_key="b")
    async with session.client("sesv2", region_name="us-east-1") as client:
        creator: Any = client._user_agent_creator  # type: ignore[attr-defined]  # private
        expected = creator.to_string()
        builds = 0
        original = creator.to_string

        def counting() -> str:
            nonlocal builds
            builds += 1
            result: str = original()
            return result

        creator.to_string = counting
        cache_user_agent(client)
        assert [creator.to_string() for _ in range(5)] == [expected] * 5
        assert builds == 1
        token = set_context(ClientContext(features={"QQ"}))
        try:
            with_feature = creator.to_string()
        finally:
            reset_context(token)
        assert with_feature != expected and "QQ" in with_feature
        assert builds == 2
        cache_user_agent(client)  # idempotent
        assert creator.to_string() == expected and builds == 2


async def records(ses: LocalSES, *, direct: bool, **kwargs: Any) -> list[dict[str, Any]]:
    """An identity audit (or import job report with details) with or without the direct path."""
    async with asyncses.Client(regions=[REGION], endpoint_url=ses.url, concurrency=4) as client:
        if not direct:
            client._direct.clear()
        if kwargs.get("jobs"):
            found = [dict(r) async for r in client.import_jobs(details=True)]
        else:
            found = [dict(r) async for r in client.email_identities()]
    return sorted(found, key=lambda r: str(r.get("IdentityName") or r.get("JobId")))


async def test_direct_path_answers_exactly_like_botocore(ses: LocalSES) -> None:
    """Identities and import jobs (timestamps included) come out the same on both paths."""
    ses.seed_identities(REGION, 40, seed=9)
    ses.seed_import_jobs(REGION, 12)
    assert await records(ses, direct=True) == await records(ses, direct=False)
    jobs = await records(ses, direct=True, jobs=True)
    assert jobs == await records(ses, direct=False, jobs=True)
    assert any(str(job.get("CompletedTimestamp", "")).endswith("Z") for job in jobs)


async def test_direct_path_errors_are_botocores(ses: LocalSES) -> None:
    """After the first call, a missing identity still fails as NotFoundException (404)."""
    names = ses.seed_identities(REGION, 2)
    async with asyncses.Client(regions=[REGION], endpoint_url=ses.url) as client:
        first = await client.call(REGION, "GetEmailIdentity", {"EmailIdentity": names[0]})
        direct = client._direct[REGION, "GetEmailIdentity"][0]
        assert direct.ready  # the template was learned from botocore's first request
        again = await client.call(REGION, "GetEmailIdentity", {"EmailIdentity": names[0]})
        assert again == first
        with pytest.raises(asyncses.NotFoundError) as caught:
            await client.call(REGION, "GetEmailIdentity", {"EmailIdentity": "missing.example"})
    assert caught.value.code == "NotFoundException"
    assert caught.value.status == 404
