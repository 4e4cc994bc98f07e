"""Organizations: the accounts of an AWS Organization, and a session in each of them.

:func:`list_accounts` pages through ``organizations:ListAccounts`` (run it with the
management account's or a delegated administrator's credentials). :func:`assume` returns an
aioboto3 session in one account, by assuming ``arn:<partition>:iam::<account>:role/<name>``
(session name ``asyncses``); its credentials refresh themselves (botocore's refreshable
credentials, fed by a credential provider registered on the session: the public extension
points), so runs longer than the role session's duration go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Final

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioCredentialResolver, AioRefreshableCredentials
from aiobotocore.session import AioSession
from botocore.credentials import CredentialProvider

from ..engine.retry import RetryPolicy, call_with_retry
from . import operations as ops
from .errors import translate_errors

__all__ = ["SESSION_NAME", "OrgAccount", "assume", "list_accounts", "role_arn"]

#: The role session name asyncses uses (it shows in CloudTrail).
SESSION_NAME: Final = "asyncses"


@dataclass(frozen=True)
class OrgAccount:
    """An account of the organization, as ListAccounts shows it."""

    id: str
    name: str
    status: str


async def list_accounts(
    session: aioboto3.Session,
    region: str,
    config: AioConfig,
    policy: RetryPolicy,
    *,
    include: Collection[str] = (),
    exclude: Collection[str] = (),
) -> list[OrgAccount]:
    """The organization's accounts (all statuses), in the order listed, filtered by
    ``include`` (only these ids, when given) and ``exclude``."""
    found: list[OrgAccount] = []
    async with session.client("organizations", region_name=region, config=config) as client:
        token: str | None = None
        while True:
            params: dict[str, Any] = {"NextToken": token} if token else {}

            async def page(params: dict[str, Any] = params) -> Any:
                with translate_errors(ops.LIST_ACCOUNTS):
                    return await client.list_accounts(**params)

            answer = await call_with_retry(page, policy, operation=ops.LIST_ACCOUNTS)
            for account in answer.get("Accounts") or ():
                account_id = str(account.get("Id"))
                if include and account_id not in include:
                    continue
                if account_id in exclude:
                    continue
                found.append(
                    OrgAccount(account_id, str(account.get("Name", "")), str(account.get("Status")))
                )
            token = answer.get("NextToken")
            if not token:
                return found


def role_arn(partition: str, account: str, role: str) -> str:
    """The ARN of role ``role`` in ``account``."""
    return f"arn:{partition}:iam::{account}:role/{role}"


class _AssumedRole(CredentialProvider):
    """A credential provider that gives refreshable credentials of an assumed role."""

    METHOD = "asyncses-assume-role"
    CANONICAL_NAME = "asyncses-assume-role"

    def __init__(
        self, first: dict[str, str], refresh: Callable[[], Awaitable[dict[str, str]]]
    ) -> None:
        super().__init__()
        self._first = first
        self._refresh = refresh

    async def load(self) -> AioRefreshableCredentials:
        return AioRefreshableCredentials.create_from_metadata(
            metadata=self._first, refresh_using=self._refresh, method=self.METHOD
        )


async def assume(
    base: aioboto3.Session,
    arn: str,
    *,
    region: str,
    config: AioConfig,
    policy: RetryPolicy,
    external_id: str | None = None,
    duration: int | None = None,
) -> aioboto3.Session:
    """A session in the account of role ``arn``, assumed from ``base`` (now, and again
    whenever its credentials near their expiry). Raises the ``OperationError`` of a role
    that cannot be assumed (``AccessDenied``: missing, or not trusting the caller)."""

    async def fetch() -> dict[str, str]:
        async with base.client("sts", region_name=region, config=config) as sts:
            params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": SESSION_NAME}
            if external_id:
                params["ExternalId"] = external_id
            if duration:
                params["DurationSeconds"] = duration

            async def call() -> Any:
                with translate_errors(ops.ASSUME_ROLE, arn):
                    return await sts.assume_role(**params)

            answer = await call_with_retry(call, policy, operation=ops.ASSUME_ROLE, key=arn)
        credentials = answer["Credentials"]
        expiry = credentials["Expiration"]
        if isinstance(expiry, dt.datetime):
            expiry = expiry.astimezone(dt.UTC).isoformat()
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": str(expiry),
        }

    first = await fetch()
    botocore_session = AioSession()
    botocore_session.register_component(
        "credential_provider", AioCredentialResolver([_AssumedRole(first, fetch)])
    )
    return aioboto3.Session(botocore_session=botocore_session, region_name=region)
