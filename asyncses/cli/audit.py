"""One audit command (``identities``, ``pools``, ``import-jobs``): settings, report file,
signals, progress, and the exit code. ``scripts/daily-report`` runs it in its own process
through :func:`run_audit`.
"""

from __future__ import annotations

import datetime as dt
import gc
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from ..client import Client, RecordStream
from ..engine.errors import UsageError
from ..engine.log import get_logger
from ..reports.files import (
    ReportOutput,
    ResumePlan,
    RunHeader,
    check_output_path,
    partial_path,
    plan_resume,
)
from ..reports.findings import LIST_FINDINGS
from ..reports.records import (
    ACCOUNT,
    CONFIGURATION_SET,
    CONTACT_LIST,
    DEDICATED_IP_POOL,
    EMAIL_IDENTITY,
    EMAIL_TEMPLATE,
    IMPORT_JOB,
    LISTING,
    SES_ACCOUNT,
    SUPPRESSED_DESTINATION,
)
from ..settings import Settings
from . import exits
from .jobs import ChildFailed, children
from .progress import Progress

__all__ = ["Audit", "run_audit"]

#: Command name -> record type.
COMMANDS: Mapping[str, str] = {
    "identities": EMAIL_IDENTITY,
    "pools": DEDICATED_IP_POOL,
    "import-jobs": IMPORT_JOB,
    "account": SES_ACCOUNT,
    "configuration-sets": CONFIGURATION_SET,
    "suppressions": SUPPRESSED_DESTINATION,
    "contact-lists": CONTACT_LIST,
    "templates": EMAIL_TEMPLATE,
}


@dataclass(frozen=True)
class Audit:
    """What one audit command does: the settings, the report and its options, the output."""

    settings: Settings
    record_type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    output: str = "-"
    resume: bool = False
    fail_on: frozenset[str] = frozenset()
    progress: bool = True
    #: Local processes to run the units in (``--jobs``).
    jobs: int = 1
    #: No summary line on stderr (a ``--jobs`` child: its parent says it all).
    quiet: bool = False
    #: A ``--jobs`` child: its records go to its parent, which gives the verdict.
    child: bool = False
    #: Whether an interrupted run may be finished with ``--resume`` (said on stderr).
    resumable: bool = True

    def header(self, client: Client | None = None) -> RunHeader:
        """The run header of this audit's report."""
        settings = self.settings
        accounts: tuple[str, ...] | None = None
        if client is not None and any(a is not None for a in client.accounts):
            accounts = tuple(sorted(str(a) for a in client.accounts))
        regions = tuple(client.regions) if client is not None else settings.regions
        return RunHeader(
            record_type=self.record_type,
            options=dict(self.options),
            accounts=accounts,
            profiles=settings.profiles,
            regions=tuple(sorted(regions)),
            endpoint=settings.endpoint_url,
            shard=f"{settings.shard[0]}/{settings.shard[1]}" if settings.shard else None,
        )

    def validate(self) -> None:
        """Refuse what cannot work, before anything is called."""
        unseen = self.fail_on - LIST_FINDINGS
        if self.options.get("list_only") and unseen:
            raise UsageError(
                f"--fail-on {', '.join(sorted(unseen))} cannot fire with --list-only "
                f"(the list fields only show {', '.join(sorted(LIST_FINDINGS))})"
            )
        if self.resume and self.output == "-":
            raise UsageError("--resume needs -o FILE (it resumes that report)")
        if self.resume and self.jobs > 1:
            raise UsageError("--resume runs in one process: drop --jobs")
        check_output_path(self.output)


def _stream(client: Client, audit: Audit, resume: Any) -> RecordStream[Any]:
    options = audit.options
    kind = audit.record_type
    if kind == EMAIL_IDENTITY:
        return client.email_identities(list_only=bool(options.get("list_only")), resume=resume)
    if kind == DEDICATED_IP_POOL:
        return client.dedicated_ip_pools(with_ips=bool(options.get("with_ips")), resume=resume)
    if kind == IMPORT_JOB:
        return client.import_jobs(
            destination_type=options.get("destination_type"),
            details=bool(options.get("details")),
            resume=resume,
        )
    if kind == SES_ACCOUNT:
        return client.account(
            quota_threshold=float(options.get("quota_threshold", 0.8)), resume=resume
        )
    if kind == CONFIGURATION_SET:
        return client.configuration_sets(resume=resume)
    if kind == SUPPRESSED_DESTINATION:
        return client.suppressions(
            reasons=options.get("reasons") or (),
            since=_when(options.get("since")),
            until=_when(options.get("until")),
            details=bool(options.get("details")),
            resume=resume,
        )
    if kind == CONTACT_LIST:
        return client.contact_lists(contacts=bool(options.get("contacts")), resume=resume)
    return client.templates(resume=resume)


#: When the units are open and their clients built: the heap is then mostly long-lived.
HEAP_SETTLES = 5.0


async def _freeze_heap() -> None:
    """Once the run's long-lived objects exist (clients, service models, the units of a
    large organization), move them out of the collector's way: otherwise each full
    collection walks them all again, a pause of a good fraction of a second every few
    seconds that the pacers then see as bunched requests. The command line owns the
    process; the library never does this."""
    await anyio.sleep(HEAP_SETTLES)
    gc.freeze()


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


class _Run:
    """The state of one audit while it runs."""

    def __init__(self, audit: Audit) -> None:
        self.audit = audit
        self.signal: signal.Signals | None = None
        self.started = time.monotonic()
        self.items = 0
        self.unit_errors: list[dict[str, Any]] = []
        self.hits = 0

    async def main(self) -> int:
        audit = self.audit
        audit.validate()
        async with Client(audit.settings) as client:
            for first, second in () if audit.quiet else client.duplicates:
                sys.stderr.write(
                    f"asyncses: warning: profiles {first!r} and {second!r} are the same "
                    f"account; audited once\n"
                )
            header = audit.header(client)
            plan = None
            if audit.resume:
                plan = await anyio.to_thread.run_sync(
                    plan_resume, audit.output, header, audit.fail_on
                )
                self.hits = plan.hits
            output = ReportOutput(audit.output, header, plan=plan)
            if plan is None and not output.direct and output.partial.exists():
                sys.stderr.write(
                    f"asyncses: warning: {output.partial.name} holds an interrupted run's "
                    "records; this run starts afresh and replaces it (--resume continues it)\n"
                )
            await output.open()
            progress = Progress.create(
                enabled=audit.progress, stats=client.stats, label=audit.record_type
            )
            finished = False
            try:
                with progress, anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._watch_signals, scope)
                        tg.start_soon(output.flush_every_second)
                        tg.start_soon(_freeze_heap)
                        async with self._records(client, plan) as records:
                            async for record in records:
                                await output.write(record)
                                progress.advance(record)
                                self._note(record)
                        tg.cancel_scope.cancel()
                finished = self.signal is None
            finally:
                if not finished:
                    await output.abandon(discard=self.signal is None)
            if self.signal is not None:
                self._summary_line(output, client, interrupted=True)
                return exits.SIGNALS[self.signal]
            if self._config_error():
                await output.abandon(discard=True)
                error = self.unit_errors[0]["error"]
                return exits.fail(f"{error['operation']}: {error['code']}: {error['message']}")
            stats = client.stats
            result = await output.finish(
                {"calls": stats.calls, "retries": stats.retries, "throttles": stats.throttles}
            )
            self._summary_line(output, client)
        if result.errors:
            return exits.ERRORS
        if self.hits:
            sys.stderr.write(
                f"asyncses: {self.hits} records have findings named by --fail-on "
                f"({', '.join(sorted(audit.fail_on))})\n"
            )
            return exits.ERRORS
        return exits.OK

    def _records(self, client: Client, plan: ResumePlan | None) -> Any:
        """The records: from this process's client, or from ``--jobs`` children."""
        audit = self.audit
        if audit.jobs > 1:
            return children(
                audit.settings, audit.record_type, audit.options, audit.jobs, client.stats
            )
        return _stream(client, audit, plan.resume if plan else None)

    def _note(self, record: Mapping[str, Any]) -> None:
        kind = record.get("type")
        if kind in (ACCOUNT, LISTING):
            self.unit_errors.append(dict(record))
            return
        self.items += 1
        if self.audit.fail_on and self.audit.fail_on.intersection(record.get("findings") or ()):
            self.hits += 1

    def _config_error(self) -> bool:
        """Nothing audited, and every unit refused the credentials: a configuration error.

        Only a run over the caller's own credentials, whole, can tell: a member role refused
        in an organization is one account's error record, and a shard or a ``--jobs`` child
        sees a part of the run (its parent judges the whole)."""
        settings = self.audit.settings
        if self.audit.child or settings.org_role or settings.shard:
            return False
        if self.items or not self.unit_errors:
            return False
        codes = {"AccessDenied", "AccessDeniedException", "UnrecognizedClientException"}
        return all(
            e.get("type") == ACCOUNT and (e.get("error") or {}).get("code") in codes
            for e in self.unit_errors
        )

    async def _watch_signals(self, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for received in signals:
                self.signal = received
                get_logger().warning("interrupted; keeping what was fetched", signal=received.name)
                # A second signal while the run winds down stops the process at once.
                for sig in exits.SIGNALS:
                    signal.signal(sig, _exit_now)
                scope.cancel()
                return

    def _summary_line(
        self, output: ReportOutput, client: Client, *, interrupted: bool = False
    ) -> None:
        if self.audit.quiet:
            return
        stats = client.stats
        elapsed = time.monotonic() - self.started
        line = (
            f"asyncses: {output.new.records} records, {output.new.errors} errors, "
            f"{stats.calls} calls, {stats.retries} retries, {stats.throttles} throttles, "
            f"{elapsed:.1f} s"
        )
        plan = output.plan
        if plan is not None and plan.kept:
            line += f" ({plan.kept} kept from the resumed report)"
        if interrupted and self.audit.output != "-" and self.audit.resumable:
            line += (
                f"; interrupted: {self.audit.output} is unchanged, what was fetched is in "
                f"{partial_path(output.target).name}: run again with --resume to finish"
            )
        sys.stderr.write(line + "\n")


def _exit_now(signum: int, _frame: Any) -> None:
    """A signal handler for the second signal: no more cleanup, exit 130/143 now."""
    import os

    os._exit(exits.SIGNALS[signal.Signals(signum)])


async def run_audit(audit: Audit) -> int:
    """Run one audit; return its exit code. Errors that end it propagate (see
    :func:`asyncses.cli.exits.answer`)."""
    try:
        return await _Run(audit).main()
    except ChildFailed as exc:  # a --jobs process said why on stderr
        return exc.code
