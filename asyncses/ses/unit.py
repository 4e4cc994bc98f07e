"""One unit of work: an account in a region, with its own SES client and its own pacer.

A :class:`Unit` is the owner of one quota (SES quotas are per account and region), so it
owns the :class:`~asyncses.engine.pacing.Pacer` that every call of the unit draws on, of
every operation. Calls go through aioboto3 and botocore as they are (their events, their
signing, their parsing), one at a time through the engine's retry policy.

The first call of a unit is its check: a connection that fails, a name that does not
resolve, or an answer that is not SES's raises :class:`UnreachableError` at once, without
retries, naming the endpoint; a configuration error should be told within seconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any

import aioboto3
import anyio
from aiobotocore.config import AioConfig

from ..engine.errors import (
    EndpointError,
    NotServiceError,
    OperationError,
    ServiceError,
    UsageError,
)
from ..engine.pacing import Pacer
from ..engine.paginate import paginate
from ..engine.retry import CallStats, RetryPolicy, call_with_retry
from . import operations as ops
from .convert import jsonable
from .errors import check_answer, translate_errors
from .session import FIRST_CALL_TIMEOUT, caller_account

__all__ = ["Unit", "UnitSpec", "UnreachableError"]


class UnreachableError(UsageError):
    """The first call of a unit could not reach SES: wrong endpoint, a region name that does
    not resolve, no network, or an endpoint that answers something else. ``cause`` is the
    call's own error."""

    def __init__(self, message: str, cause: OperationError) -> None:
        super().__init__(message)
        self.cause = cause


class Unit:
    """An account in a region: an SES client, a pacer, and paced, retried calls.

    Use as ``async with unit:`` (opens and closes the client). ``account`` is ``None``
    when the run does not need to know it (one account, no ``include_account``).
    """

    def __init__(
        self,
        session: aioboto3.Session,
        region: str,
        *,
        account: str | None = None,
        endpoint_url: str | None = None,
        config: AioConfig,
        policy: RetryPolicy,
        pacer: Pacer,
        write_pacer: Pacer | None = None,
        page_size: int = ops.MAX_PAGE_SIZE,
        stats: CallStats | None = None,
        in_flight: anyio.Semaphore | None = None,
    ) -> None:
        self.session = session
        self.region = region
        self.account = account
        self.endpoint_url = endpoint_url
        self.config = config
        self.policy = policy
        self.pacer = pacer
        self.write_pacer = write_pacer or pacer
        self.page_size = page_size
        self.stats = stats if stats is not None else CallStats()
        self.in_flight = in_flight
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._checked = False
        self._account_lock = anyio.Lock()
        self._looked_up: str | None = None  # the account id, when account_id() looked it up

    async def account_id(self) -> str:
        """The account id: ``account`` if the run knows it, else looked up once (STS
        GetCallerIdentity) and kept."""
        if self.account is not None:
            return self.account
        async with self._account_lock:
            if self._looked_up is None:
                self._looked_up = await caller_account(
                    self.session, self.region, self.config, self.policy
                )
        return self._looked_up

    @property
    def endpoint(self) -> str:
        """The SES endpoint this unit talks to."""
        if self._client is not None:
            return str(self._client.meta.endpoint_url)
        return self.endpoint_url or f"https://email.{self.region}.amazonaws.com"

    async def __aenter__(self) -> Unit:
        stack = AsyncExitStack()
        try:
            self._client = await self._new_client(stack)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def _new_client(self, stack: AsyncExitStack) -> Any:
        try:
            return await stack.enter_async_context(
                self.session.client(
                    ops.SERVICE,
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=self.config,
                )
            )
        except ValueError as exc:  # an endpoint URL from the environment, say
            raise UsageError(f"cannot create the SES client: {exc}") from None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            with anyio.CancelScope(shield=True):
                await stack.aclose()

    async def call(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        write: bool = False,
    ) -> dict[str, Any]:
        """Call one SES v2 ``operation`` through the pacer and the retry policy.

        The answer is JSON-ready: no ``ResponseMetadata``, datetimes as UTC ISO 8601.
        Raises an :class:`~asyncses.engine.errors.OperationError` if it fails for good.

        A ``write`` draws on the unit's write pacer (writes have a quota of their own) and
        is tried once, throttles aside: a 5xx, a timeout or a dropped connection may hide a
        write that happened, so the caller re-reads before it sends it again.
        """
        if self._client is None:
            raise RuntimeError("use the Unit as 'async with unit:' first")
        method = getattr(self._client, ops.method_name(operation))
        arguments = dict(params or {})

        async def attempt() -> Any:
            with translate_errors(operation, key):
                answer = await method(**arguments)
            check_answer(answer, operation, key)
            return answer

        if write:
            policy = RetryPolicy(
                max_attempts=1,
                attempt_timeout=self.policy.attempt_timeout,
                stall_timeout=self.policy.stall_timeout,
                sleep=self.policy.sleep,
                clock=self.policy.clock,
            )
            answer = await self._retried(attempt, operation, key, policy, self.write_pacer)
            self._checked = True
        elif self._checked:
            answer = await self._retried(attempt, operation, key, self.policy)
        else:
            answer = await self._first(attempt, operation, key)
        result: dict[str, Any] = jsonable(answer)
        return result

    async def write(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        key: str | None = None,
        landed: Callable[[], Awaitable[bool]],
    ) -> dict[str, Any] | None:
        """Make a change at most once: a ``write`` call, and after a failure that may hide
        a write that happened (a 5xx, a timeout, a dropped connection) a wait as the retry
        policy would, then ``landed()`` (a re-read): if it says the change is there, stop
        (``None``); if not, send it again, up to ``max_attempts`` in all.

        Returns the write's answer; raises its last error if it fails for good."""
        failures = 0
        while True:
            try:
                return await self.call(operation, params, key=key, write=True)
            except (EndpointError, ServiceError) as exc:
                failures += 1
                if failures >= self.policy.max_attempts:
                    exc.attempts = failures
                    raise
                await self.policy.sleep(self.policy.backoff(failures, exc))
                if await landed():
                    return None

    async def _first(
        self, attempt: Callable[[], Awaitable[Any]], operation: str, key: str | None
    ) -> Any:
        """The unit's first call: its first attempt, if it cannot connect or gets an answer
        that is not SES's, fails at once (:class:`UnreachableError`); after that, or once
        SES has answered anything at all, the call goes on under the usual policy."""
        tried = False
        timeout = min(FIRST_CALL_TIMEOUT, self.policy.attempt_timeout)

        async def checked() -> Any:
            nonlocal tried
            if tried:
                return await attempt()
            tried = True
            try:
                with anyio.fail_after(timeout):
                    answer = await attempt()
            except TimeoutError:
                raise self._unreachable("Timeout", f"no answer within {timeout:g} s") from None
            except (EndpointError, NotServiceError) as exc:
                raise self._unreachable(exc.code, exc.message, exc) from None
            self._checked = True
            return answer

        try:
            return await self._retried(checked, operation, key, self.policy)
        except OperationError:
            self._checked = True  # SES answered, if only to refuse
            raise

    def _unreachable(
        self, code: str, message: str, cause: OperationError | None = None
    ) -> UnreachableError:
        cause = cause or EndpointError(message, operation="", code=code)
        return UnreachableError(f"cannot reach SES at {self.endpoint}: {code}: {message}", cause)

    async def _retried(
        self,
        attempt: Callable[[], Awaitable[Any]],
        operation: str,
        key: str | None,
        policy: RetryPolicy,
        pacer: Pacer | None = None,
    ) -> Any:
        return await call_with_retry(
            attempt,
            policy,
            operation=operation,
            key=key,
            pacer=pacer or self.pacer,
            in_flight=self.in_flight,
            stats=self.stats,
        )

    def pages(
        self,
        operation: str,
        items_key: str,
        params: Mapping[str, Any] | None = None,
        *,
        counted: bool = False,
    ) -> AsyncIterator[Any]:
        """The items of every page of a ``NextToken``/``PageSize`` list operation.

        A ``counted`` listing adds its items to ``stats.listed`` as each page arrives and
        counts in ``stats.listings_open`` until its last page is in, so a progress display
        knows the total as soon as it can be known.
        """
        stats = self.stats
        page_size = min(self.page_size, ops.PAGE_SIZE_CAPS.get(operation, ops.MAX_PAGE_SIZE))
        open_ = False

        def close() -> None:
            nonlocal open_
            if open_:
                open_ = False
                stats.listings_open -= 1

        async def fetch(token: str | None) -> Mapping[str, Any]:
            page_params = dict(params or {}, PageSize=page_size)
            if token is not None:
                page_params["NextToken"] = token
            page = await self.call(operation, page_params)
            if counted:
                stats.listed += len(page.get(items_key) or ())
                if not page.get("NextToken"):
                    close()
            return page

        if not counted:
            return paginate(fetch, items_key)

        async def items() -> AsyncIterator[Any]:
            nonlocal open_
            open_ = True
            stats.listings += 1
            stats.listings_open += 1
            try:
                async for item in paginate(fetch, items_key):
                    yield item
            finally:
                close()  # failed, abandoned or complete: this listing is over

        return items()


class UnitSpec:
    """An account in a region, before it is opened: what a report runner schedules.

    :meth:`open` gives the :class:`Unit` (an async context manager); ``session`` may be a
    callable that makes the session when the unit opens (an assumed role, say), so that a
    failure to get credentials is the unit's failure, reported as that account and region.
    """

    def __init__(
        self,
        session: aioboto3.Session | Callable[[], Awaitable[aioboto3.Session]],
        region: str,
        *,
        account: str | None,
        endpoint_url: str | None,
        config: AioConfig,
        policy: RetryPolicy,
        pacer: Pacer,
        page_size: int,
        stats: CallStats,
        in_flight: anyio.Semaphore | None,
        write_pacer: Pacer | None = None,
    ) -> None:
        self._session = session
        self.region = region
        self.account = account
        self._options: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "config": config,
            "policy": policy,
            "pacer": pacer,
            "write_pacer": write_pacer,
            "page_size": page_size,
            "stats": stats,
            "in_flight": in_flight,
        }

    def open(self) -> AbstractAsyncContextManager[Unit]:
        """Open the unit: get its session, create its SES client."""
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Unit]:
        session = self._session
        if not isinstance(session, aioboto3.Session):
            session = await session()
        async with Unit(session, self.region, account=self.account, **self._options) as unit:
            yield unit
