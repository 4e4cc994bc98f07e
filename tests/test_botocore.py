"""The per-client botocore tuning keeps requests exactly as botocore builds them."""

from __future__ import annotations

from typing import Any

import aioboto3
from botocore.context import ClientContext, reset_context, set_context

from asyncses._botocore import cache_user_agent


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
