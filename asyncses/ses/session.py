"""AWS sessions: credentials, the default region, and the account behind the credentials.

``--endpoint-url`` (``Client(endpoint_url=...)``) applies to SES only. STS, Organizations and
any other service find their endpoints as the AWS SDKs do: ``AWS_ENDPOINT_URL_STS``,
``AWS_ENDPOINT_URL``, the profile's ``endpoint_url``, then AWS's own.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import aioboto3
import botocore.exceptions
from aiobotocore.config import AioConfig

from .._version import __version__
from ..engine.errors import EndpointError, NoCredentialsError, UsageError
from ..engine.retry import RetryPolicy, call_with_retry
from . import operations as ops
from .errors import translate_errors

__all__ = ["caller_account", "client_config", "default_region", "make_session"]

#: The deadline of the first call to an endpoint: a wrong endpoint, a region that does not
#: resolve or an unreachable network is a configuration error, told within seconds.
FIRST_CALL_TIMEOUT = 3.5


def make_session(profile: str | None = None) -> aioboto3.Session:
    """An aioboto3 session for ``profile`` (``None``: the default credential chain)."""
    try:
        return aioboto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        name = profile or os.environ.get("AWS_PROFILE")
        raise UsageError(f"AWS profile {name!r} not found") from None


async def check_credentials(session: aioboto3.Session) -> None:
    """Raise :class:`NoCredentialsError` if the session has no credentials."""
    try:
        credentials: Any = session.get_credentials()
        if inspect.isawaitable(credentials):  # aioboto3's is a coroutine; its stub says not
            credentials = await credentials
    except botocore.exceptions.BotoCoreError as exc:  # a profile that cannot load, say
        raise UsageError(f"cannot load AWS credentials: {exc}") from None
    if credentials is None:
        raise NoCredentialsError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or pass --profile"
        )


def default_region(session: aioboto3.Session, *, given: bool) -> str | None:
    """The region to use when none was named: ``AWS_REGION`` wins over the profile's region
    and ``AWS_DEFAULT_REGION``, as in the other AWS SDKs; a session the caller built
    (``given``) keeps its own region."""
    env_region = os.environ.get("AWS_REGION")
    if given:
        return session.region_name or env_region
    return env_region or session.region_name


def client_config(*, max_connections: int, read_timeout: float) -> AioConfig:
    """The botocore configuration of every client: botocore's own retries off (the engine
    retries), a short connect timeout, and asyncses in the User-Agent."""
    return AioConfig(
        max_pool_connections=max(max_connections, 10),
        retries={"total_max_attempts": 1},  # asyncses retries; botocore must not as well
        connect_timeout=FIRST_CALL_TIMEOUT,
        read_timeout=read_timeout,
        user_agent_extra=f"asyncses/{__version__}",
    )


async def caller_account(
    session: aioboto3.Session, region: str, config: AioConfig, policy: RetryPolicy
) -> str:
    """The account id behind the session's credentials (STS GetCallerIdentity)."""
    async with session.client("sts", region_name=region, config=config) as sts:
        endpoint = str(sts.meta.endpoint_url)

        async def call() -> Any:
            with translate_errors(ops.GET_CALLER_IDENTITY):
                return await sts.get_caller_identity()

        first = RetryPolicy(
            max_attempts=1, attempt_timeout=min(FIRST_CALL_TIMEOUT, policy.attempt_timeout)
        )
        try:
            answer = await call_with_retry(call, first, operation=ops.GET_CALLER_IDENTITY)
        except EndpointError as exc:
            raise UsageError(f"cannot reach STS at {endpoint}: {exc.message}") from None
        return str(answer["Account"])
