"""The public :class:`Client`: sessions, units (accounts in regions), and record streams.

The client is an async context manager with three states (unopened, open, closed). While it
is open it owns a task group; every record stream it hands out runs its workers inside that
task group under a cancel scope of its own, so leaving an iteration early (``break``,
``aclose()``, an exception) cancels the outstanding lookups without touching the host's tasks,
and closing the client waits for every worker to end.

It is a thin facade: the reports (:mod:`asyncses.reports`) know the resources, the SES
adapter (:mod:`asyncses.ses`) the calls, the engine (:mod:`asyncses.engine`) the pacing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Generic, TypeVar

import aioboto3
import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .changes.actions import Change
from .changes.apply import ApplyReport, OutcomeRecord
from .engine.errors import ClientClosedError, OperationError, UsageError
from .engine.log import get_logger
from .engine.pacing import Pacer
from .engine.pool import run_each
from .engine.retry import CallStats, RetryPolicy
from .reports.account import AccountReport
from .reports.base import Report
from .reports.configuration_sets import ConfigurationSetReport
from .reports.contact_lists import ContactListReport
from .reports.identities import IdentityReport
from .reports.import_jobs import ImportJobReport
from .reports.pools import PoolReport, create_pool
from .reports.records import (
    ACCOUNT,
    ConfigurationSetRecord,
    ContactListRecord,
    ContactRecord,
    CustomVerificationTemplateRecord,
    DedicatedIpPoolRecord,
    EmailIdentityRecord,
    EmailTemplateRecord,
    ImportJobRecord,
    ProblemRecord,
    SesAccountRecord,
    SuppressedDestinationRecord,
    UnitErrorRecord,
    error_info,
    in_order,
)
from .reports.runner import Resume, run_report
from .reports.suppressions import SuppressionReport
from .reports.templates import TemplateReport
from .ses import org
from .ses import session as sessions
from .ses.regions import partition_of, ses_regions
from .ses.unit import UnitSpec
from .settings import Settings

__all__ = ["Client", "RecordStream"]

R = TypeVar("R")


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
    Besides the records of the items, a stream may yield :data:`~asyncses.ProblemRecord`
    records: an ``account`` record for an account and region that could not be audited at
    all (credentials refused, a role not assumed, a region not enabled), and a ``listing``
    record for a listing that failed for good part-way (after the records of the items it
    had listed). A configuration error (no credentials, an endpoint that is not SES)
    raises :class:`~asyncses.UsageError` instead.
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
            try:  # a buffered record, without a yield to the event loop per record
                record = self._recv.receive_nowait()
            except anyio.WouldBlock:
                record = await self._recv.receive()
            return in_order(record)
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
        send, recv = anyio.create_memory_object_stream[R](self._client.settings.concurrency)
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
    """Audits the SES v2 resources of one or more accounts in one or more regions.

    Use it as ``async with asyncses.Client(...) as client:``. Pass a :class:`Settings`, or
    its fields as keywords (``Client(regions=["eu-west-1"], concurrency=16)``); ``profile``
    is short for ``profiles=[profile]``; ``session`` is your own ``aioboto3.Session`` (then
    no profiles). See :class:`Settings` for every field.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        session: aioboto3.Session | None = None,
        profile: str | None = None,
        retry_policy: RetryPolicy | None = None,
        **fields: Any,
    ) -> None:
        if profile is not None:
            fields["profiles"] = (profile,)
        if settings is not None and fields:
            settings = settings.replace(**fields)
        elif settings is None:
            try:
                settings = Settings(**fields)
            except TypeError as exc:
                raise UsageError(f"Client: {exc}") from None
        if session is not None and settings.profiles:
            raise UsageError("pass either profiles or session, not both")
        self.settings = settings
        self._session = session
        self._policy = retry_policy or RetryPolicy(
            max_attempts=settings.max_attempts,
            attempt_timeout=settings.attempt_timeout,
            stall_timeout=settings.stall_timeout,
        )
        self._stats = CallStats()
        #: Pairs of profiles that turned out to be the same account (the second is skipped).
        self.duplicates: list[tuple[str, str]] = []
        self._state = _State.UNOPENED
        self._stack: AsyncExitStack | None = None
        self._tg: TaskGroup | None = None
        self._regions: list[str] = []
        self._accounts: list[tuple[aioboto3.Session, str | None]] = []
        self._pacers: dict[tuple[str | None, str, bool], Pacer] = {}
        self._preamble: list[UnitErrorRecord] = []  # accounts that could not be opened
        self._in_flight = anyio.Semaphore(settings.max_in_flight, fast_acquire=True)
        self._config = sessions.client_config(
            max_connections=settings.concurrency, read_timeout=settings.attempt_timeout
        )

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def regions(self) -> list[str]:
        """The regions this client audits (known once it is open)."""
        return list(self._regions)

    @property
    def accounts(self) -> list[str | None]:
        """The accounts this client audits (known once it is open; ``None`` for the one
        account of a run that does not look up its id)."""
        return [account for _session, account in self._accounts]

    @property
    def stats(self) -> CallStats:
        """Counters of the calls made so far (for progress and summaries)."""
        return self._stats

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
        settings = self.settings
        given = self._session is not None
        if self._session is not None:
            candidates = [self._session]
        else:
            names: Sequence[str | None] = settings.profiles or (None,)
            candidates = [sessions.make_session(name) for name in names]
        for session in candidates:
            await sessions.check_credentials(session)
        home = sessions.default_region(candidates[0], given=given)
        partition = (partition_of(home) if home else None) or "aws"
        if settings.all_regions:
            self._regions = list(ses_regions(partition))
        elif settings.regions:
            self._regions = list(settings.regions)
        else:
            if not home:
                raise UsageError("no region: pass --region or set AWS_REGION")
            self._regions = [home]
        if not settings.endpoint_url:
            for region in self._regions:
                if partition_of(region) is None:
                    raise UsageError(
                        f"SES v2 is not offered in region {region!r} (or botocore does not "
                        "know it yet): check the name, or pass --endpoint-url"
                    )
        control = home or self._regions[0]  # where STS and Organizations are called
        if settings.org_role:
            await self._open_organization(candidates[0], control, partition)
        elif settings.include_account or len(candidates) > 1:
            labels = settings.profiles or ("",) * len(candidates)
            seen: dict[str, str] = {}
            for session, label in zip(candidates, labels, strict=True):
                account = await sessions.caller_account(
                    session, control, self._config, self._policy
                )
                if account in seen:  # two profiles, one account: audit it once
                    self.duplicates.append((seen[account], label))
                    get_logger().warning(
                        "same account twice", account=account, profiles=[seen[account], label]
                    )
                    continue
                seen[account] = label
                self._accounts.append((session, account))
        else:
            self._accounts = [(candidates[0], None)]
        self._tg = await stack.enter_async_context(anyio.create_task_group())

    async def _open_organization(self, base: aioboto3.Session, region: str, partition: str) -> None:
        """Every ACTIVE account of the organization, each through its assumed role (the
        credentials' own account through them directly). An account whose role cannot be
        assumed becomes one ``account`` error record."""
        settings = self.settings
        assert settings.org_role is not None
        caller = await sessions.caller_account(base, region, self._config, self._policy)
        listed = await org.list_accounts(
            base,
            region,
            self._config,
            self._policy,
            include=settings.org_accounts,
            exclude=settings.org_exclude,
        )
        active = [account for account in listed if account.status == "ACTIVE"]
        for account in listed:
            if account.status != "ACTIVE":
                get_logger().info("account skipped", account=account.id, status=account.status)
        found: dict[str, aioboto3.Session] = {}

        async def open_account(account: org.OrgAccount) -> None:
            if account.id == caller:
                found[account.id] = base
                return
            arn = org.role_arn(partition, account.id, settings.org_role or "")
            try:
                found[account.id] = await org.assume(
                    base,
                    arn,
                    region=region,
                    config=self._config,
                    policy=self._policy,
                    external_id=settings.org_external_id,
                )
            except OperationError as exc:
                if _in_shard(settings, account.id, ""):
                    self._preamble.append(
                        {  # no region: the account as a whole could not be reached
                            "type": ACCOUNT,
                            "region": "",
                            "account": account.id,
                            "error": error_info(exc),
                        }
                    )

        await run_each(active, open_account, limit=16)
        self._accounts = [(found[a.id], a.id) for a in active if a.id in found]

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

    # -- units ---------------------------------------------------------------------------

    def _pacer(self, account: str | None, region: str, *, writes: bool = False) -> Pacer:
        """The pacer of one quota (account and region; writes have their own), shared by
        every report."""
        key = (account, region, writes)
        pacer = self._pacers.get(key)
        if pacer is None:
            pacer = self._pacers[key] = Pacer(self.settings.rate)
        return pacer

    def _unit(self, session: aioboto3.Session, account: str | None, region: str) -> UnitSpec:
        return UnitSpec(
            session,
            region,
            account=account,
            endpoint_url=self.settings.endpoint_url,
            config=self._config,
            policy=self._policy,
            pacer=self._pacer(account, region),
            write_pacer=self._pacer(account, region, writes=True),
            page_size=self.settings.page_size,
            stats=self._stats,
            in_flight=self._in_flight,
        )

    def _units(self) -> list[UnitSpec]:
        settings = self.settings
        pairs = [
            (session, account, region)
            for session, account in self._accounts
            for region in self._regions
            if _in_shard(settings, account, region, job=False)
        ]
        if settings.job is not None:
            # A --jobs process takes every n-th unit of the sorted list: the processes get
            # equal shares (a hash, as machines' shards use, can give one twice the other's).
            j, n = settings.job
            ordered = sorted(pairs, key=lambda pair: (pair[1] or "", pair[2]))
            mine = {
                (account, region) for i, (_, account, region) in enumerate(ordered) if i % n == j
            }
            pairs = [pair for pair in pairs if (pair[1], pair[2]) in mine]
        return [self._unit(session, account, region) for session, account, region in pairs]

    def _stream(
        self,
        report: Report[R],
        resume: Resume | None,
        *,
        units: list[UnitSpec] | None = None,
        preamble: bool = True,
    ) -> RecordStream[R]:
        """``report`` over ``units`` (default: every unit of this run), after the records of
        the accounts that could not be opened (unless ``preamble`` is false)."""
        self._check_open()
        units = units if units is not None else self._units()
        settings = self.settings
        first = list(self._preamble) if preamble else []

        async def run(output: MemoryObjectSendStream[R]) -> None:
            await run_report(
                report,
                units,
                output,
                concurrency=settings.concurrency,
                units_at_once=settings.units_at_once,
                resume=resume,
                preamble=first,
            )

        return RecordStream(self, run)

    # -- reports -------------------------------------------------------------------------

    def email_identities(
        self, *, list_only: bool = False, resume: Resume | None = None
    ) -> RecordStream[EmailIdentityRecord | ProblemRecord]:
        """Every email identity, looked up with GetEmailIdentity unless ``list_only``.

        ``resume`` leaves out the items it names (see :class:`asyncses.Resume`).
        """
        known = resume.dkim if resume is not None else None
        return self._stream(IdentityReport(list_only=list_only, known=known), resume)

    def dedicated_ip_pools(
        self, *, with_ips: bool = False, resume: Resume | None = None
    ) -> RecordStream[DedicatedIpPoolRecord | ProblemRecord]:
        """Every dedicated IP pool with its ScalingMode; its IPs too with ``with_ips``."""
        return self._stream(PoolReport(with_ips=with_ips), resume)

    def import_jobs(
        self,
        *,
        destination_type: str | None = None,
        details: bool = False,
        resume: Resume | None = None,
    ) -> RecordStream[ImportJobRecord | ProblemRecord]:
        """Every import job (of one destination type), with GetImportJob fields if ``details``."""
        report = ImportJobReport(destination_type=destination_type, details=details)
        return self._stream(report, resume)

    def account(
        self, *, quota_threshold: float = 0.8, resume: Resume | None = None
    ) -> RecordStream[SesAccountRecord | ProblemRecord]:
        """The account's SES standing in every account and region (GetAccount): production
        access, sending, enforcement, quota; QUOTA_NEARLY_USED from ``quota_threshold`` of
        the daily quota on."""
        return self._stream(AccountReport(quota_threshold=quota_threshold), resume)

    def configuration_sets(
        self, *, resume: Resume | None = None
    ) -> RecordStream[ConfigurationSetRecord | ProblemRecord]:
        """Every configuration set with its event destinations and findings."""
        return self._stream(ConfigurationSetReport(), resume)

    def suppressions(
        self,
        *,
        reasons: Sequence[str] = (),
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        details: bool = False,
        resume: Resume | None = None,
    ) -> RecordStream[SuppressedDestinationRecord | ProblemRecord]:
        """Every address on the suppression list (of ``reasons``, last updated between
        ``since`` and ``until``); ``details`` adds GetSuppressedDestination's attributes."""
        report = SuppressionReport(reasons=reasons, since=since, until=until, details=details)
        return self._stream(report, resume)

    def contact_lists(
        self, *, contacts: bool = False, resume: Resume | None = None
    ) -> RecordStream[ContactListRecord | ContactRecord | ProblemRecord]:
        """Every contact list with its topics; with ``contacts``, every contact too."""
        return self._stream(ContactListReport(contacts=contacts), resume)

    def templates(
        self, *, resume: Resume | None = None
    ) -> RecordStream[EmailTemplateRecord | CustomVerificationTemplateRecord | ProblemRecord]:
        """Every email template and custom verification email template."""
        return self._stream(TemplateReport(), resume)

    def apply(
        self, changes: Iterable[Change], *, dry_run: bool = False, done: Collection[str] = ()
    ) -> RecordStream[OutcomeRecord | ProblemRecord]:
        """Apply ``changes`` (a plan's, see :func:`asyncses.plan`), each at most once: an
        outcome per change (``applied``, ``already``, ``drifted``, ``failed``, or with
        ``dry_run`` ``would-apply``); changes whose id is in ``done`` are left out.

        Raises :class:`~asyncses.UsageError`, before any call, for a change in an account
        this client does not reach, or changes without an account when it reaches several.
        """
        self._check_open()
        accounts = [account for _session, account in self._accounts]
        grouped: dict[tuple[str | None, str], list[Change]] = {}
        for change in changes:
            account = change.get("account")
            if account is None:
                if len(accounts) != 1:
                    raise UsageError(
                        f"change {change['id']} names no account, and this run reaches "
                        f"{len(accounts)}: plan from a report that carries accounts"
                    )
                account = accounts[0]
            elif account not in accounts:
                refused = [p for p in self._preamble if p.get("account") == account]
                if refused and (error := refused[0]["error"]) is not None:
                    raise UsageError(
                        f"change {change['id']} is for account {account}, which could not be "
                        f"reached: {error['operation']}: {error['message']}"
                    )
                if accounts == [None]:
                    raise UsageError(
                        "the plan names accounts: apply it with settings that look the "
                        "account up (include_account=True, as the command line does)"
                    )
                raise UsageError(
                    f"change {change['id']} is for account {account}, which these "
                    "credentials do not reach"
                )
            region = change["region"]
            if region not in self._regions:
                self._regions.append(region)
            grouped.setdefault((account, region), []).append(change)
        wanted = set(grouped)
        report = ApplyReport(grouped, dry_run=dry_run, done=done)
        units = [unit for unit in self._units() if (unit.account, unit.region) in wanted]
        # Accounts that could not be opened and have no change here are not this apply's.
        return self._stream(report, None, units=units, preamble=False)

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
        region = region or self._regions[0]
        session, account = self._accounts[0]
        async with self._unit(session, account, region).open() as unit:
            return await create_pool(unit, name, scaling_mode, tags or {})


def shard_of(account: str | None, region: str, shards: int) -> int:
    """The shard (0 to ``shards - 1``) of an account and region: a stable hash, the same on
    every machine, so that N copies of a command with ``--shard K/N`` cover everything once.
    """
    digest = hashlib.sha256(f"{account or ''}/{region}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def _in_shard(settings: Settings, account: str | None, region: str, *, job: bool = True) -> bool:
    """Whether this run takes ``account`` in ``region``: its machine shard (``--shard``) and,
    with ``job``, its ``--jobs`` process by the same kind of hash (for what is not a unit:
    an account whose role could not be assumed)."""
    if settings.shard is not None:
        k, n = settings.shard
        if shard_of(account, region, n) != k:
            return False
    if job and settings.job is not None:
        j, n = settings.job
        if shard_of(account, f"job:{region}", n) != j:
            return False
    return True
