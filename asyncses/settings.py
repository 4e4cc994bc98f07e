"""Every setting of a run, in one frozen dataclass validated in one place.

The command line, :class:`asyncses.Client` and ``scripts/`` all build a :class:`Settings`;
an invalid value raises :class:`~asyncses.UsageError` naming it, before anything is called.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from .engine.errors import UsageError
from .ses import operations as ops
from .ses.regions import valid_region

__all__ = ["ALL_REGIONS", "Settings"]

#: ``regions=ALL_REGIONS``: every region where SES v2 is offered in the partition.
ALL_REGIONS: Final = "all"

MAX_CONCURRENCY: Final = 1000


@dataclass(frozen=True)
class Settings:
    """How asyncses reaches SES and how hard it may push.

    - ``regions``: regions to audit (default: the session's region); ``("all",)`` for every
      region where SES v2 is offered;
    - ``profiles``: AWS profiles, one account each (default: the credential chain);
    - ``endpoint_url``: an SES endpoint other than AWS's (STS and others keep theirs:
      ``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``);
    - ``include_account``: add ``"account"`` to every record (always so with several
      profiles);
    - ``concurrency``: requests in flight at once per account and region;
    - ``max_in_flight``: requests in flight at once in all;
    - ``units_at_once``: accounts x regions audited at once;
    - ``rate``: a fixed pace in requests per second per account and region; ``None`` (the
      default) finds each quota from its 429s;
    - ``max_attempts``: tries per call on 5xx, connection errors and timeouts (throttles do
      not count: they wait for the pace);
    - ``page_size``: PageSize of the list calls (1-1000);
    - ``attempt_timeout``: seconds one attempt may take;
    - ``stall_timeout``: seconds a throttled account and region may go without one request
      getting through before its calls give up;
    - ``org_role``: audit every ACTIVE account of the AWS Organization the credentials can
      list, by assuming this role (a name) in each; ``org_external_id``,
      ``org_accounts`` (only these ids) and ``org_exclude`` (not these) go with it;
    - ``shard``: ``(k, n)`` audits only the accounts x regions whose stable hash falls in
      shard ``k`` of ``n`` (``0 <= k < n``), so ``n`` copies cover everything once.
    """

    regions: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    endpoint_url: str | None = None
    include_account: bool = False
    concurrency: int = 32
    max_in_flight: int = 256
    units_at_once: int = 128
    rate: float | None = None
    max_attempts: int = 8
    page_size: int = ops.MAX_PAGE_SIZE
    attempt_timeout: float = 30.0
    stall_timeout: float = 300.0
    org_role: str | None = None
    org_external_id: str | None = None
    org_accounts: tuple[str, ...] = ()
    org_exclude: tuple[str, ...] = ()
    shard: tuple[int, int] | None = None
    #: ``(j, n)``: this process takes part ``j`` of ``n`` of the units of its shard (what
    #: ``--jobs`` gives each of its local processes; not for direct use).
    job: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        # Lists and comma-separated strings are accepted and stored as tuples.
        object.__setattr__(self, "regions", _names(self.regions, "region"))
        object.__setattr__(self, "profiles", _names(self.profiles, "profile"))
        for region in self.regions:
            if region != ALL_REGIONS and not valid_region(region):
                raise UsageError(f"invalid region name {region!r}")
        if ALL_REGIONS in self.regions and len(self.regions) > 1:
            raise UsageError("give either --region all or a list of regions, not both")
        _whole("concurrency", self.concurrency, 1, MAX_CONCURRENCY)
        _whole("max in flight", self.max_in_flight, 1, 100_000)
        _whole("units at once", self.units_at_once, 1, 10_000)
        _whole("max attempts", self.max_attempts, 1, 100)
        _whole("page size", self.page_size, 1, ops.MAX_PAGE_SIZE)
        if self.rate is not None and (
            isinstance(self.rate, bool) or not math.isfinite(self.rate) or self.rate <= 0
        ):
            raise UsageError(
                f"rate must be a positive number of requests per second, not {self.rate!r}"
            )
        for name in ("attempt_timeout", "stall_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not math.isfinite(value) or value <= 0:
                raise UsageError(f"{name.replace('_', ' ')} must be a positive number of seconds")
        if self.endpoint_url is not None:
            _check_url(self.endpoint_url)
        object.__setattr__(self, "org_accounts", _names(self.org_accounts, "account"))
        object.__setattr__(self, "org_exclude", _names(self.org_exclude, "account"))
        for account in (*self.org_accounts, *self.org_exclude):
            if not re.fullmatch(r"\d{12}", account):
                raise UsageError(f"invalid account id {account!r}: expected 12 digits")
        if self.org_role is not None:
            if not re.fullmatch(r"[\w+=,.@/-]{1,512}", self.org_role) or self.org_role.startswith(
                "arn:"
            ):
                raise UsageError(f"invalid role name {self.org_role!r}: give the name, not an ARN")
            if self.profiles and len(self.profiles) > 1:
                raise UsageError("--org-role takes one --profile (the organization's)")
        elif self.org_external_id or self.org_accounts or self.org_exclude:
            raise UsageError("--org-external-id, --org-accounts and --org-exclude need --org-role")
        for name in ("shard", "job"):
            value = getattr(self, name)
            if value is None:
                continue
            k, n = value = tuple(value)
            object.__setattr__(self, name, value)
            if not (isinstance(k, int) and isinstance(n, int) and 0 <= k < n <= 100_000):
                raise UsageError(f"invalid {name} {k}/{n}: expected K/N with 0 <= K < N")

    @property
    def all_regions(self) -> bool:
        """True for ``--region all``."""
        return self.regions == (ALL_REGIONS,)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON (for a child process: ``Settings(**settings.to_json())``)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(self).items()
        }


def _names(value: Iterable[str] | str, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise UsageError(f"a {what} must be a string, not {item!r}")
        names += [part.strip() for part in item.split(",") if part.strip()]
    return tuple(dict.fromkeys(names))


def _whole(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}, not {value!r}")


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UsageError(f"malformed endpoint URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"malformed endpoint URL {url!r}: expected http(s)://host")
    try:
        parts.port  # noqa: B018  # raises ValueError on a bad port
    except ValueError:
        raise UsageError(f"malformed endpoint URL {url!r}: bad port") from None
