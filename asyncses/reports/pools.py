"""Dedicated IP pools: the pool report, and pool creation with SES's tag rules."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, Final

from ..engine.errors import AlreadyExistsError, NotFoundError, OperationError, UsageError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .records import (
    DEDICATED_IP_POOL,
    DedicatedIp,
    DedicatedIpPool,
    DedicatedIpPoolRecord,
    answer,
    error_info,
    pool_head,
)

__all__ = ["PoolReport", "create_pool", "parse_tags", "validate_pool"]

MAX_TAGS: Final = 50
MAX_KEY_LENGTH: Final = 128
MAX_VALUE_LENGTH: Final = 256
_TAG_PUNCTUATION: Final = frozenset("_.:/=+-")
MAX_POOL_NAME: Final = 64
_POOL_NAME: Final = re.compile(r"^[A-Za-z0-9_-]+$")
# str.isspace() also accepts these control characters, which are not Unicode white space.
_NOT_WHITE_SPACE: Final = frozenset("\x1c\x1d\x1e\x1f")


class PoolReport:
    """Every dedicated IP pool with its ScalingMode; its IPs too with ``with_ips``."""

    record_type = DEDICATED_IP_POOL

    def __init__(self, *, with_ips: bool = False) -> None:
        self.with_ips = with_ips

    def job(self, unit: Caller) -> UnitJob[DedicatedIpPoolRecord]:
        """The pool audit of one account in one region."""
        return _PoolJob(unit, with_ips=self.with_ips)


def _head(unit: Caller, pool: DedicatedIpPool) -> DedicatedIpPoolRecord:
    return {**pool_head(unit.account, unit.region), **pool, "error": None}


class _PoolJob(UnitJob[DedicatedIpPoolRecord]):
    record_type = DEDICATED_IP_POOL

    def __init__(self, unit: Caller, *, with_ips: bool) -> None:
        self.unit = unit
        self.with_ips = with_ips

    def items(self) -> AsyncIterator[Any]:
        return self.unit.pages(ops.LIST_DEDICATED_IP_POOLS, "DedicatedIpPools", counted=True)

    def name(self, item: Any) -> str:
        return str(item)

    async def records(self, item: Any) -> Sequence[DedicatedIpPoolRecord]:
        name = str(item)
        record = _head(self.unit, {"PoolName": name})
        try:
            found = await self.unit.call(ops.GET_DEDICATED_IP_POOL, {"PoolName": name}, key=name)
            record = {**record, **answer(DedicatedIpPool, found.get("DedicatedIpPool") or {})}
            if self.with_ips:
                record["DedicatedIps"] = [
                    answer(DedicatedIp, ip)
                    async for ip in self.unit.pages(
                        ops.GET_DEDICATED_IPS, "DedicatedIps", {"PoolName": name}
                    )
                ]
        except OperationError as exc:
            record["error"] = error_info(exc)
        return [record]


def parse_tags(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings (split at the first ``=``) as a mapping, validated."""
    tags: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"tag {pair!r} is not KEY=VALUE")
        key, value = pair.split("=", 1)
        if key in tags:
            raise UsageError(f"tag key {key!r} is given twice (keys are case-sensitive)")
        tags[key] = value
    validate_tags(tags)
    return tags


def validate_tags(tags: Mapping[str, str]) -> None:
    """Raise :class:`UsageError` naming the first tag SES would refuse."""
    if len(tags) > MAX_TAGS:
        raise UsageError(f"{len(tags)} tags given; SES allows at most {MAX_TAGS}")
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise UsageError(f"tag {key!r}: keys and values must be strings")
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise UsageError(f"tag key {key!r} must be 1 to {MAX_KEY_LENGTH} characters long")
        if len(value) > MAX_VALUE_LENGTH:
            raise UsageError(
                f"tag {key!r}: value must be at most {MAX_VALUE_LENGTH} characters long"
            )
        if key.lower().startswith("aws:"):
            raise UsageError(f"tag key {key!r}: keys starting with 'aws:' are reserved")
        for what, text in (("key", key), ("value", value)):
            bad = next((ch for ch in text if not _tag_char(ch)), None)
            if bad is not None:
                raise UsageError(
                    f"tag {key!r}: {what} has the character {bad!r}; allowed are letters, "
                    "digits, white space and _ . : / = + -"
                )


def _tag_char(ch: str) -> bool:
    return ch.isalnum() or (ch.isspace() and ch not in _NOT_WHITE_SPACE) or ch in _TAG_PUNCTUATION


def validate_pool(name: str, scaling_mode: str, tags: Mapping[str, str]) -> None:
    """Raise :class:`UsageError` if SES would refuse to create this pool."""
    if not name or not name.strip():
        raise UsageError("the pool name must not be empty")
    if len(name) > MAX_POOL_NAME or not _POOL_NAME.match(name):
        raise UsageError(
            f"invalid pool name {name!r}: use 1 to {MAX_POOL_NAME} letters, digits, _ and -"
        )
    if scaling_mode not in ops.SCALING_MODES:
        raise UsageError(
            f"invalid scaling mode {scaling_mode!r}: use one of {', '.join(ops.SCALING_MODES)}"
        )
    validate_tags(tags)


async def create_pool(
    unit: Caller, name: str, scaling_mode: str, tags: Mapping[str, str]
) -> DedicatedIpPoolRecord:
    """Create a pool, then return it as GetDedicatedIpPool shows it."""
    validate_pool(name, scaling_mode, tags)
    params = {
        "PoolName": name,
        "ScalingMode": scaling_mode,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    # Check first: a retry of the create may only trust AlreadyExists if the pool did not
    # exist before (a throttled first attempt creates nothing).
    try:
        await unit.call(ops.GET_DEDICATED_IP_POOL, {"PoolName": name}, key=name)
    except NotFoundError:
        pass
    else:
        raise AlreadyExistsError(
            f"Pool {name} already exists.",
            operation=ops.CREATE_DEDICATED_IP_POOL,
            code="AlreadyExistsException",
            key=name,
        )
    resent = False

    async def landed() -> bool:
        """After a create that may have happened: is the pool there now?"""
        nonlocal resent
        try:
            await unit.call(ops.GET_DEDICATED_IP_POOL, {"PoolName": name}, key=name)
        except NotFoundError:
            resent = True
            return False
        return True

    try:
        await unit.write(ops.CREATE_DEDICATED_IP_POOL, params, key=name, landed=landed)
    except AlreadyExistsError:
        # Sent again after an unanswered attempt that the re-read did not see yet: that
        # attempt created it. Otherwise someone else did, after the check above.
        if not resent:
            raise
    found = await unit.call(ops.GET_DEDICATED_IP_POOL, {"PoolName": name}, key=name)
    return _head(unit, answer(DedicatedIpPool, found.get("DedicatedIpPool") or {}))
