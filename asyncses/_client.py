"""The public :class:`Client`: one aioboto3 session, one SES client per region, and the pool.

The client is an async context manager with three states (unopened, open, closed). While it
is open it owns a task group; every record stream it hands out runs its workers inside that
task group under a cancel scope of its own, so leaving an iteration early (``break``,
``aclose()``, an exception) cancels the outstanding lookups without touching the host's tasks,
and closing the client waits for every worker to end.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import aioboto3
import anyio
import botocore.exceptions
from aiobotocore.config import AioConfig
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from . import _identities, _import_jobs, _pools, _ses
from ._botocore import DirectGet, cache_user_agent, load_models
from ._exceptions import ClientClosedError, NoCredentialsError, UsageError
from ._paginate import paginate
from ._ratelimit import RateLimiter
from ._records import DedicatedIpPoolRecord, EmailIdentityRecord, ImportJobRecord, ItemKey
from ._retry import CallStats, RetryPolicy, call_with_retry

__all__ = ["Client", "RecordStream"]

R = TypeVar("R")

DEFAULT_CONCURRENCY = 32
#: More lookups in flight than this only queue up at the service (and cost memory here).
MAX_CONCURRENCY = 1000
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_ATTEMPT_TIMEOUT = 30.0


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class _Run:
    """The producing side of a record stream: what its task needs, and nothing more.

    The task must not hold the :class:`RecordStream` itself, or an abandoned stream could
    never be finalized (and so never cancel its workers) while the task is alive.
    """

    __slots__ = ("error", "scope")

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.error: BaseException | None = None

    async def __call__(
        self,
        run: Callable[[MemoryObjectSendStream[R]], Awaitable[None]],
        send: MemoryObjectSendStream[R],
    ) -> None:
        with self.scope:
            try:
                await run(send)
            except Exception as exc:
                self.error = exc
            finally:
                send.close()


class RecordStream(AsyncIterator[R], Generic[R]):
    """An async iterator of records, produced by workers the client owns.

    Iterate it with ``async for``. Leaving early is safe: ``break`` and the iterator being
    dropped cancel the outstanding work; ``aclose()`` or ``async with`` do it at once, and so
    does cancelling the task while it waits for a record (the stream then ends).
    A listing that fails for good raises its :class:`~asyncses.OperationError` after the
    records of the items already listed.
    """

    def __init__(
        self, client: Client, run: Callable[[MemoryObjectSendStream[R]], Awaitable[None]]
    ) -> None:
        self._client = client
        self._run = run
        self._recv: MemoryObjectReceiveStream[R] | None = None
        self._state: _Run | None = None

    def __aiter__(self) -> RecordStream[R]:
        return self

    async def __anext__(self) -> R:
        if self._recv is None:
            self._start()
        assert self._recv is not None and self._state is not None
        try:
            return await self._recv.receive()
        except anyio.get_cancelled_exc_class():
            # The consumer is being cancelled: its stream goes with it, now, not whenever
            # the garbage collector finds it.
            self._stop()
            raise
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._recv.close()
            if self._state.error is not None:
                error, self._state.error = self._state.error, None
                raise error from None
            raise StopAsyncIteration from None

    def _start(self) -> None:
        task_group = self._client._task_group()
        send, recv = anyio.create_memory_object_stream[R](self._client.concurrency)
        self._recv = recv
        self._state = _Run()
        task_group.start_soon(self._state, self._run, send)

    async def aclose(self) -> None:
        """Stop the work now; records not yet received are dropped."""
        self._stop()
        await anyio.lowlevel.checkpoint()

    def _stop(self) -> None:
        if self._state is not None:
            self._state.scope.cancel()
        if self._recv is not None:
            self._recv.close()

    async def __aenter__(self) -> RecordStream[R]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # An abandoned iteration (``break`` out of ``async for``) must not keep its workers.
        with contextlib.suppress(RuntimeError):  # a closed loop has nothing left to cancel
            self._stop()


class Client:
    """Audits one AWS account's SES v2 resources in one or more regions.

    Use it as ``async with asyncses.Client(...) as client:``. Settings:

    - ``regions``: regions to audit (default: the session's region);
    - ``profile`` / ``session``: an AWS profile name, or your own ``aioboto3.Session``;
    - ``endpoint_url``: an SES endpoint other than AWS's (``AWS_ENDPOINT_URL_SESV2`` works too);
    - ``concurrency``: lookups in flight at once;
    - ``rate``: requests per second per region and operation; ``None`` adapts to throttling;
    - ``max_attempts``: tries per call (throttles, 5xx, connection errors and timeouts);
    - ``page_size``: PageSize of the list calls (1-1000);
    - ``include_account``: add ``"account"`` (from STS GetCallerIdentity) to every record;
    - ``processes``: processes for the lookups of a large identity audit (more than 1,000
      identities, adaptive rate, credentials from the environment or a profile): botocore's
      per-request CPU otherwise caps one event loop near a thousand lookups a second.
    """

    def __init__(
        self,
        *,
        regions: Sequence[str] | None = None,
        profile: str | None = None,
        session: aioboto3.Session | None = None,
        endpoint_url: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate: float | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        page_size: int = _ses.MAX_PAGE_SIZE,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        include_account: bool = False,
        processes: int = 1,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        validate_settings(
            regions=regions,
            endpoint_url=endpoint_url,
            concurrency=concurrency,
            rate=rate,
            max_attempts=max_attempts,
            page_size=page_size,
        )
        if profile is not None and session is not None:
            raise UsageError("pass either profile or session, not both")
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
            raise UsageError(f"processes must be a whole number of at least 1, not {processes!r}")
        self.processes = processes
        self._regions = list(dict.fromkeys(regions)) if regions else []
        self._profile = profile
        self._session = session
        self._endpoint_url = endpoint_url
        self.concurrency = concurrency
        self.rate = rate
        self.page_size = page_size
        self._include_account = include_account
        self._policy = retry_policy or RetryPolicy(
            max_attempts=max_attempts, attempt_timeout=attempt_timeout
        )
        self.account: str | None = None
        self.stats = CallStats()
        self._state = _State.UNOPENED
        self._stack: AsyncExitStack | None = None
        self._tg: TaskGroup | None = None
        self._clients: dict[str, Any] = {}
        self._direct: dict[tuple[str, str], tuple[DirectGet, str]] = {}
        self._limiters: dict[tuple[str, str], RateLimiter] = {}

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def regions(self) -> list[str]:
        """The regions this client audits (known once it is open)."""
        return list(self._regions)

    async def __aenter__(self) -> Client:
        if self._state is not _State.UNOPENED:
            raise ClientClosedError(f"this Client is {self._state.value}; create a new one")
        stack = AsyncExitStack()
        try:
            await self._open(stack)
        except BaseException:
            await stack.aclose()
            self._state = _State.CLOSED
            raise
        self._stack = stack
        self._state = _State.OPEN
        return self

    async def _open(self, stack: AsyncExitStack) -> None:
        try:
            session = self._session or aioboto3.Session(profile_name=self._profile)
        except botocore.exceptions.ProfileNotFound:
            name = self._profile or os.environ.get("AWS_PROFILE")
            raise UsageError(f"AWS profile {name!r} not found") from None
        credentials: Any = session.get_credentials()
        if inspect.isawaitable(credentials):  # aioboto3's is a coroutine; its stub says not
            credentials = await credentials
        if credentials is None:
            raise NoCredentialsError(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE, or pass --profile"
            )
        if not self._regions:
            # AWS_REGION wins over the profile's region and AWS_DEFAULT_REGION, as in the
            # other AWS SDKs; a session the caller built keeps its own region.
            env_region = os.environ.get("AWS_REGION")
            if self._session is not None:
                region = session.region_name or env_region
            else:
                region = env_region or session.region_name
            if not region:
                raise UsageError("no region: pass --region or set AWS_REGION")
            self._regions = [region]
        for region in self._regions:
            if not _ses.valid_region(region):
                raise UsageError(f"invalid region name {region!r}")
        config = AioConfig(
            max_pool_connections=max(self.concurrency, 10),
            retries={"total_max_attempts": 1},  # asyncses retries; botocore must not as well
            connect_timeout=10,
            read_timeout=self._policy.attempt_timeout,
            user_agent_extra="asyncses",
            # Requests are built here, from listed names and validated settings; botocore's
            # client-side validation of each one costs CPU and finds nothing.
            parameter_validation=False,
        )
        await anyio.to_thread.run_sync(load_models, session)
        for region in self._regions:
            try:
                client = await stack.enter_async_context(
                    session.client(
                        _ses.SERVICE,
                        region_name=region,
                        endpoint_url=self._endpoint_url,
                        config=config,
                    )
                )
            except ValueError as exc:  # an endpoint URL from the environment, say
                raise UsageError(f"cannot create the SES client: {exc}") from None
            cache_user_agent(client)
            self._clients[region] = client
            for operation, label in _ses.DIRECT_GETS.items():
                direct = DirectGet(
                    client,
                    operation,
                    label,
                    timestamp=_ses.utc_iso,
                    botocore_answer=_ses.jsonable,
                )
                if direct.supported:
                    self._direct[region, operation] = (direct, label)
        if self._include_account:
            sts = await stack.enter_async_context(
                session.client("sts", region_name=self._regions[0], config=config)
            )
            identity = await self._retry(
                lambda: sts.get_caller_identity(), self._regions[0], _ses.GET_CALLER_IDENTITY
            )
            self.account = str(identity["Account"])
        self._tg = await stack.enter_async_context(anyio.create_task_group())

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel outstanding work, close the HTTP sessions. Idempotent."""
        if self._state is not _State.OPEN:
            self._state = _State.CLOSED
            return
        self._state = _State.CLOSED
        assert self._stack is not None and self._tg is not None
        self._tg.cancel_scope.cancel()
        await self._stack.aclose()

    def _task_group(self) -> TaskGroup:
        self._check_open()
        assert self._tg is not None
        return self._tg

    def _check_open(self) -> None:
        if self._state is not _State.OPEN:
            if self._state is _State.UNOPENED:
                raise ClientClosedError("use the Client as 'async with Client(...) as client:'")
            raise ClientClosedError("this Client is closed; create a new one")

    # -- calls ---------------------------------------------------------------------------

    def _limiter(self, region: str, operation: str) -> RateLimiter:
        key = (region, operation)
        limiter = self._limiters.get(key)
        if limiter is None:
            if self.rate is None:
                limiter = RateLimiter(adaptive=True)
            else:
                limiter = RateLimiter(self.rate, adaptive=False)
            self._limiters[key] = limiter
        return limiter

    async def _retry(
        self, fn: Callable[[], Awaitable[Any]], region: str, operation: str, key: str | None = None
    ) -> dict[str, Any]:
        async def attempt() -> Any:
            with _ses.translate_errors(operation, key):
                return await fn()

        result: dict[str, Any] = await call_with_retry(
            attempt,
            self._policy,
            operation=operation,
            key=key,
            limiter=self._limiter(region, operation),
            stats=self.stats,
        )
        return result

    async def call(
        self, region: str, operation: str, params: Mapping[str, Any], *, key: str | None = None
    ) -> dict[str, Any]:
        """Call one SES v2 ``operation`` in ``region`` with the retry policy and rate limit.

        The answer is JSON-ready: no ``ResponseMetadata``, datetimes as UTC ISO 8601 strings.
        """
        self._check_open()
        direct = self._direct.get((region, operation))
        if direct is not None and len(params) == 1 and direct[1] in params:
            fast, value = direct[0], str(params[direct[1]])
            return await self._retry(lambda: fast(value), region, operation, key)
        method = getattr(self._clients[region], _ses.METHODS[operation])
        answer = await self._retry(lambda: method(**params), region, operation, key)
        jsonable: dict[str, Any] = _ses.jsonable(answer)
        return jsonable

    def listing(
        self,
        region: str,
        operation: str,
        items_key: str,
        params: Mapping[str, Any] | None = None,
        *,
        counted: bool = False,
    ) -> AsyncIterator[Any]:
        """The items of every page of a ``NextToken``/``PageSize`` list operation.

        A ``counted`` listing adds its items to ``stats.listed`` as each page arrives, and
        counts as open in ``stats.listings_open`` until its last page is in (or it ends any
        other way), so a progress display knows the total as soon as it can be known.
        """
        stats = self.stats
        open_ = False

        def close() -> None:
            nonlocal open_
            if open_:
                open_ = False
                stats.listings_open -= 1

        async def fetch(token: str | None) -> Mapping[str, Any]:
            page_params = dict(params or {}, PageSize=self.page_size)
            if token is not None:
                page_params["NextToken"] = token
            page = await self.call(region, operation, page_params)
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

    def shard_children(self) -> int:
        """How many child processes a large run may start (see ``processes``)."""
        if self.processes <= 1 or self.rate is not None or self._session is not None:
            return 0  # a fixed rate is one shared budget; a caller's session cannot travel
        return min(self.processes - 1, self.concurrency // 4)

    def shard_settings(self, concurrency: int) -> dict[str, Any]:
        """The settings of a child process's client (plain JSON)."""
        return {
            "regions": self._regions,
            "profile": self._profile,
            "endpoint_url": self._endpoint_url,
            "concurrency": concurrency,
            "max_attempts": self._policy.max_attempts,
            "page_size": self.page_size,
            "attempt_timeout": self._policy.attempt_timeout,
        }

    def listed_items(
        self,
        kind: str,
        operation: str,
        items_key: str,
        *,
        name: Callable[[Any], str],
        params: Mapping[str, Any] | None = None,
        skip: Collection[ItemKey] = (),
    ) -> list[AsyncIterator[tuple[str, Any]]]:
        """One source per region of ``(region, item)`` for a report's pool, leaving out the
        items whose key (``kind``, account, region, ``name(item)``) is in ``skip``."""

        async def source(region: str) -> AsyncIterator[tuple[str, Any]]:
            async for item in self.listing(region, operation, items_key, params, counted=True):
                if skip and (kind, self.account, region, name(item)) in skip:
                    self.stats.listed -= 1  # not to be done: out of the total
                    continue
                yield region, item

        return [source(region) for region in self._regions]

    def _stream(
        self, run: Callable[[MemoryObjectSendStream[R]], Awaitable[None]]
    ) -> RecordStream[R]:
        self._check_open()
        return RecordStream(self, run)

    # -- reports -------------------------------------------------------------------------

    def email_identities(
        self, *, list_only: bool = False, skip: Collection[ItemKey] = ()
    ) -> RecordStream[EmailIdentityRecord]:
        """Every email identity, looked up with GetEmailIdentity unless ``list_only``.

        ``skip`` holds keys (see :func:`asyncses.record_key`) of identities to leave out.
        """
        return self._stream(lambda out: _identities.run(self, out, list_only=list_only, skip=skip))

    def dedicated_ip_pools(
        self, *, with_ips: bool = False, skip: Collection[ItemKey] = ()
    ) -> RecordStream[DedicatedIpPoolRecord]:
        """Every dedicated IP pool with its ScalingMode; its IPs too with ``with_ips``."""
        return self._stream(lambda out: _pools.run(self, out, with_ips=with_ips, skip=skip))

    def import_jobs(
        self,
        *,
        destination_type: str | None = None,
        details: bool = False,
        skip: Collection[ItemKey] = (),
    ) -> RecordStream[ImportJobRecord]:
        """Every import job (of one destination type), with GetImportJob fields if ``details``."""
        if destination_type is not None and destination_type not in _ses.IMPORT_DESTINATION_TYPES:
            raise UsageError(
                f"invalid destination type {destination_type!r}: "
                f"use one of {', '.join(_ses.IMPORT_DESTINATION_TYPES)}"
            )
        return self._stream(
            lambda out: _import_jobs.run(
                self, out, destination_type=destination_type, details=details, skip=skip
            )
        )

    async def create_dedicated_ip_pool(
        self,
        name: str,
        scaling_mode: str = "STANDARD",
        tags: Mapping[str, str] | None = None,
        *,
        region: str | None = None,
    ) -> DedicatedIpPoolRecord:
        """Create a dedicated IP pool and return it as GetDedicatedIpPool shows it.

        Everything is validated before any call. Raises :class:`~asyncses.AlreadyExistsError`
        if a pool of that name exists.
        """
        self._check_open()
        return await _pools.create(
            self, name, scaling_mode, tags or {}, region=region or self._regions[0]
        )


def validate_settings(
    *,
    regions: Sequence[str] | None,
    endpoint_url: str | None,
    concurrency: int,
    rate: float | None,
    max_attempts: int,
    page_size: int,
) -> None:
    """Raise :class:`UsageError` naming the first invalid setting."""
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_CONCURRENCY
    ):
        raise UsageError(
            f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {concurrency!r}"
        )
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise UsageError(f"max attempts must be a whole number of at least 1, not {max_attempts!r}")
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= _ses.MAX_PAGE_SIZE
    ):
        raise UsageError(f"page size must be from 1 to {_ses.MAX_PAGE_SIZE}, not {page_size!r}")
    if rate is not None and (not math.isfinite(rate) or rate <= 0):
        raise UsageError(f"rate must be a positive number of requests per second, not {rate!r}")
    for region in regions or ():
        if not _ses.valid_region(region):
            raise UsageError(f"invalid region name {region!r}")
    if endpoint_url is not None:
        try:
            parts = urlsplit(endpoint_url)
        except ValueError as exc:
            raise UsageError(f"malformed endpoint URL {endpoint_url!r}: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"malformed endpoint URL {endpoint_url!r}: expected http(s)://host")
        try:
            parts.port  # noqa: B018  # raises ValueError on a bad port
        except ValueError:
            raise UsageError(f"malformed endpoint URL {endpoint_url!r}: bad port") from None
