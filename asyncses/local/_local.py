""":class:`LocalSES`, the embedded local SES v2 endpoint, and :class:`OrgInfo`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _seed
from ._constants import (
    DEFAULT_ACCOUNT,
    DKIM_STATUSES,
    ENFORCEMENT_STATUSES,
    MAIL_FROM_STATUSES,
    MOTO_MISSING,
    SUPPRESSION_REASONS,
    VERIFICATION_STATUSES,
)
from ._ops_identities import (
    ensure_identity,
    identity_arn,
    remove_identity,
    set_dkim,
    set_mail_from,
    set_verification,
)
from ._state import AccountSettings, ServerState, extras_of

if TYPE_CHECKING:
    from moto.sesv2.models import SESV2Backend

    from ._server import EndpointServer

_SANDBOX_QUOTA = (200.0, 1.0)
_PRODUCTION_QUOTA = (50000.0, 14.0)


@dataclass
class OrgInfo:
    """The organization made by :meth:`LocalSES.create_organization`."""

    management_account: str
    """The management account (:data:`DEFAULT_ACCOUNT`)."""
    member_accounts: list[str] = field(default_factory=list)
    """ACTIVE member accounts that have the role."""
    suspended_accounts: list[str] = field(default_factory=list)
    """SUSPENDED member accounts (they have the role)."""
    accounts_without_role: list[str] = field(default_factory=list)
    """ACTIVE member accounts whose role is missing: AssumeRole into them is AccessDenied."""
    role_name: str = "OrganizationAccountAccessRole"
    """The role created in member accounts."""

    @property
    def all_member_accounts(self) -> list[str]:
        """Every member account, in creation order (members, suspended, without role)."""
        return [*self.member_accounts, *self.suspended_accounts, *self.accounts_without_role]

    def role_arn(self, account_id: str) -> str:
        """``arn:aws:iam::<account_id>:role/<role_name>``."""
        return f"arn:aws:iam::{account_id}:role/{self.role_name}"


def _require_moto() -> None:
    """RuntimeError with the install hint if moto (with its server extra) is missing."""
    try:
        import flask  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(MOTO_MISSING) from exc


def _backend(region: str, account_id: str) -> SESV2Backend:
    """moto's sesv2 backend for one account and region; ValueError where SES does not exist."""
    _require_moto()
    from ._call import UnknownRegionError, sesv2_backend

    try:
        return sesv2_backend(account_id, region)
    except UnknownRegionError as exc:
        raise ValueError(exc.message) from None


def _check(value: str | None, allowed: Iterable[str], what: str) -> None:
    """ValueError unless ``value`` is None or one of ``allowed``."""
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


class LocalSES:
    """An embedded local Amazon SES v2 endpoint (moto in server mode) on loopback.

    Use as a context manager, or call :meth:`start` and :meth:`stop`; point
    clients at :attr:`url`.  The same endpoint also serves moto's other services
    (STS, Organizations, IAM...) on the same port.  Seeding methods write
    straight to moto's backend objects in this process and work before
    :meth:`start` too.  moto's state is per process: every LocalSES of a process
    shares it.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sts_credential_lifetime: float | None = None,
    ) -> None:
        """Configure the endpoint; ``port=0`` lets the OS pick a free port.

        ``sts_credential_lifetime``: if set, AssumeRole answers credentials that
        expire that many seconds from now (see :attr:`sts_credential_lifetime`).
        """
        self.host = host
        self.port = port
        self.url = ""
        self._state = ServerState(sts_credential_lifetime)
        self._server: EndpointServer | None = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Bind the address and start serving in a background thread; sets :attr:`url`.

        Raises:
            RuntimeError: already running, moto is missing, or the address cannot be bound.
        """
        _require_moto()
        from ._server import EndpointServer

        with self._lock:
            if self._server is not None:
                raise RuntimeError("LocalSES is already running")
            try:
                server = EndpointServer(self.host, self.port, self._state)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise RuntimeError(
                    f"cannot start the local SES endpoint on {self.host}:{self.port}: "
                    f"cannot bind the address ({reason})"
                ) from exc
            server.start()
            host, port = server.address
            if host in ("0.0.0.0", ""):
                host = "127.0.0.1"
            elif host == "::":
                host = "::1"
            if ":" in host:
                host = f"[{host}]"
            self._server = server
            self.port = port
            self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and close the socket (no-op if not running)."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()

    @property
    def running(self) -> bool:
        """Whether the endpoint is serving."""
        return self._server is not None

    def __enter__(self) -> LocalSES:
        """Start and return the endpoint."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the endpoint."""
        self.stop()

    def reset(self) -> None:
        """Clear all moto state of this process (every service, account and region).

        That includes the endpoint's extra state (import jobs, dedicated IPs,
        suppression lists, account settings...), moto's record of organization
        member accounts, disabled regions and :attr:`assume_role_calls`.
        :attr:`sts_credential_lifetime` is a setting and stays.
        """
        _require_moto()
        from moto.moto_api._internal.models import moto_api_backend
        from moto.organizations.models import organizations_backends

        moto_api_backend.reset()
        organizations_backends.master_accounts.clear()
        self._state.clear()

    # -- STS and regions -------------------------------------------------------

    @property
    def sts_credential_lifetime(self) -> float | None:
        """Seconds until credentials from AssumeRole expire (None: what the caller asked for).

        A short lifetime (under 15 minutes) makes botocore's refreshable
        credentials refresh on their next use.
        """
        return self._state.sts_credential_lifetime

    @sts_credential_lifetime.setter
    def sts_credential_lifetime(self, seconds: float | None) -> None:
        """Set the lifetime (positive seconds) or None."""
        if seconds is not None and seconds <= 0:
            raise ValueError("sts_credential_lifetime must be positive or None")
        self._state.sts_credential_lifetime = seconds

    @property
    def assume_role_calls(self) -> dict[str, int]:
        """AssumeRole calls received per role ARN (refused ones included); reset() clears it."""
        return self._state.assume_role_calls

    @property
    def operation_calls(self) -> dict[str, int]:
        """SES v2 requests served since the last :meth:`reset`, by operation name."""
        with self._state.lock:
            return dict(self._state.operation_calls)

    def before(
        self, operation: str, hook: Callable[[str, str, dict[str, Any]], None] | None
    ) -> None:
        """Run ``hook(account, region, params)`` in the server before each ``operation``
        request is answered (``None`` removes it), to change state between a client's
        calls (an identity deleted between its listing and its lookup, say). An exception
        it raises answers the request as SES's InternalFailure; :meth:`reset` removes hooks.
        """
        with self._state.lock:
            if hook is None:
                self._state.hooks.pop(operation, None)
            else:
                self._state.hooks[operation] = hook

    def disable_region(self, account_id: str, region: str) -> None:
        """Refuse SES calls of ``account_id`` in ``region``, as an opt-in region not enabled.

        They answer HTTP 403 ``UnrecognizedClientException`` "The security token
        included in the request is invalid."
        """
        with self._state.lock:
            self._state.disabled_regions.add((account_id, region))

    def enable_region(self, account_id: str, region: str) -> None:
        """Undo :meth:`disable_region`."""
        with self._state.lock:
            self._state.disabled_regions.discard((account_id, region))

    # -- identities ------------------------------------------------------------

    def seed_identities(
        self,
        region: str,
        count: int,
        *,
        prefix: str = "identity",
        seed: int = 0,
        account_id: str = DEFAULT_ACCOUNT,
    ) -> list[str]:
        """Create ``count`` identities with deterministic, varied states.

        Every 4th identity (``i % 4 == 3``) is the address ``{prefix}-{i:05d}@example.com``,
        the others are the domains ``{prefix}-{i:05d}.example.com``.  Drawn from
        ``random.Random(seed)``: VerificationStatus (80% SUCCESS, then PENDING,
        FAILED, TEMPORARY_FAILURE, NOT_STARTED; VerifiedForSendingStatus is True
        exactly for SUCCESS), SendingEnabled (False for ~5%),
        FeedbackForwardingStatus (False for ~10%); for domains also the DKIM
        status (85% SUCCESS) and tokens, DKIM SigningEnabled (False for ~15%), a
        MAIL FROM domain ``mail.<domain>`` for ~30% with a varied
        MailFromDomainStatus, and a sending-authorization policy for ~10%.
        Address identities keep DKIM NOT_STARTED and unsigned.

        Returns:
            The identity names in creation (and ListEmailIdentities) order.
        """
        return _seed.seed_identities(_backend(region, account_id), count, prefix, seed)

    def set_identity(
        self,
        region: str,
        name: str,
        *,
        account_id: str = DEFAULT_ACCOUNT,
        verification_status: str | None = None,
        dkim_status: str | None = None,
        dkim_signing_enabled: bool | None = None,
        sending_enabled: bool | None = None,
        mail_from_domain: str | None = None,
        mail_from_status: str | None = None,
        policies: dict[str, str] | None = None,
        configuration_set_name: str | None = None,
        feedback_forwarding: bool | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Create identity ``name`` if missing and set the given fields (None = unchanged).

        A new identity starts verified (SUCCESS, VerifiedForSendingStatus True).
        ``verification_status`` also sets VerifiedForSendingStatus (True only for
        SUCCESS).  ``mail_from_domain=""`` removes the MAIL FROM domain;
        ``mail_from_status`` needs a MAIL FROM domain (given or already set).
        ``policies`` replaces all policies, ``tags`` all tags (on the identity's
        ARN ``arn:aws:ses:{region}:{account}:identity/{name}``);
        ``configuration_set_name=""`` removes the default configuration set (it
        need not exist).

        Raises:
            ValueError: a status outside the SES v2 enum, or a MAIL FROM status without a domain.
        """
        _check(verification_status, VERIFICATION_STATUSES, "verification_status")
        _check(dkim_status, DKIM_STATUSES, "dkim_status")
        _check(mail_from_status, MAIL_FROM_STATUSES, "mail_from_status")
        backend = _backend(region, account_id)
        core = backend.core_backend
        identity = ensure_identity(core, name)
        if verification_status is not None:
            set_verification(identity, verification_status)
        set_dkim(core, identity, dkim_status, dkim_signing_enabled)
        if sending_enabled is not None:
            identity.sending_enabled = sending_enabled
        if mail_from_domain is not None or mail_from_status is not None:
            set_mail_from(core, name, mail_from_domain, mail_from_status, None)
        if policies is not None:
            identity.policies = dict(policies)
        if configuration_set_name is not None:
            identity.configuration_set_name = configuration_set_name or None
        if feedback_forwarding is not None:
            identity.feedback_forwarding_status = feedback_forwarding
        if tags is not None:
            arn = identity_arn(backend.partition, region, account_id, name)
            core.tagger.delete_all_tags_for_resource(arn)
            core.tagger.tag_resource(
                arn, [{"Key": key, "Value": value} for key, value in tags.items()]
            )

    def delete_identity(self, region: str, name: str, *, account_id: str = DEFAULT_ACCOUNT) -> None:
        """Delete identity ``name`` with its MAIL FROM, DKIM and tag state (no-op if missing)."""
        backend = _backend(region, account_id)
        remove_identity(
            backend.core_backend, name, identity_arn(backend.partition, region, account_id, name)
        )

    # -- dedicated IP pools and import jobs ------------------------------------

    def seed_pools(
        self,
        region: str,
        count: int,
        *,
        prefix: str = "pool",
        ips_per_pool: int = 2,
        account_id: str = DEFAULT_ACCOUNT,
    ) -> list[str]:
        """Create ``count`` dedicated IP pools named ``{prefix}-{i:03d}``.

        Every 3rd pool (``i % 3 == 2``) is MANAGED and has no listed IPs; each
        STANDARD pool gets ``ips_per_pool`` dedicated IPs (``10.x.y.z``) whose
        WarmupStatus cycles DONE (100%), DONE, IN_PROGRESS (1-99%),
        NOT_APPLICABLE (0%).  An existing pool of the same name is replaced.

        Returns:
            The pool names in creation order.
        """
        return _seed.seed_pools(_backend(region, account_id), count, prefix, ips_per_pool)

    def seed_import_jobs(
        self,
        region: str,
        count: int,
        *,
        account_id: str = DEFAULT_ACCOUNT,
        seed: int = 0,
    ) -> list[str]:
        """Create ``count`` import jobs with deterministic, varied states.

        Job ``i`` imports into the suppression list when ``i`` is even and into
        contact list ``contacts-{i % 3}`` when odd; JobStatus cycles CREATED,
        PROCESSING, COMPLETED, FAILED, CANCELLED every two jobs, so ten jobs
        cover every (destination, status) pair.  JobIds and record counts come
        from ``random.Random(seed)`` (and how many jobs exist already).
        CreatedTimestamp is spread over the hours before now; COMPLETED, FAILED
        and CANCELLED jobs have a CompletedTimestamp, FAILED ones a FailureInfo.

        Returns:
            The JobIds in creation (and ListImportJobs) order.
        """
        return _seed.seed_import_jobs(_backend(region, account_id), count, seed)

    # -- account ---------------------------------------------------------------

    def set_account(
        self,
        region: str,
        *,
        account_id: str = DEFAULT_ACCOUNT,
        production_access: bool = True,
        sending_enabled: bool = True,
        enforcement_status: str = "HEALTHY",
        max_24_hour_send: float | None = None,
        max_send_rate: float | None = None,
        sent_last_24_hours: float = 0.0,
        suppressed_reasons: Iterable[str] = SUPPRESSION_REASONS,
        vdm_enabled: bool = False,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Set what GetAccount answers for one account and region.

        Never set, an account answers as a healthy production account with a
        50,000 messages/24 h and 14 messages/s quota.  The quota defaults follow
        ``production_access``: 50000/14 for production, 200/1 for a sandbox
        account (``production_access=False``).  ``details`` is the
        ``AccountDetails`` object (MailType, WebsiteURL, ReviewDetails...).

        Raises:
            ValueError: an unknown enforcement status or suppression reason.
        """
        _check(enforcement_status, ENFORCEMENT_STATUSES, "enforcement_status")
        reasons = tuple(suppressed_reasons)
        for reason in reasons:
            _check(reason, SUPPRESSION_REASONS, "suppressed_reasons")
        default_max, default_rate = _PRODUCTION_QUOTA if production_access else _SANDBOX_QUOTA
        extras_of(_backend(region, account_id)).account = AccountSettings(
            production_access=production_access,
            sending_enabled=sending_enabled,
            enforcement_status=enforcement_status,
            max_24_hour_send=float(default_max if max_24_hour_send is None else max_24_hour_send),
            max_send_rate=float(default_rate if max_send_rate is None else max_send_rate),
            sent_last_24_hours=float(sent_last_24_hours),
            suppressed_reasons=reasons,
            vdm_enabled=vdm_enabled,
            details=dict(details) if details is not None else None,
        )

    # -- configuration sets, suppression list, contact lists, templates --------

    def seed_configuration_sets(
        self,
        region: str,
        count: int,
        *,
        prefix: str = "configset",
        seed: int = 0,
        account_id: str = DEFAULT_ACCOUNT,
    ) -> list[str]:
        """Create ``count`` configuration sets ``{prefix}-{i:03d}`` with deterministic variety.

        By index ``i`` (so tests can rely on it):

        * TlsPolicy REQUIRE when ``i`` is even, OPTIONAL when odd;
        * ReputationMetricsEnabled False when ``i % 3 == 2``, else True;
        * SendingEnabled False when ``i % 5 == 4``, else True;
        * event destinations by ``i % 4``: 0 -> one enabled SNS destination
          ``feedback`` matching BOUNCE, COMPLAINT and DELIVERY; 1 -> one enabled
          CloudWatch destination ``metrics`` matching only SEND and DELIVERY;
          2 -> one disabled EventBridge destination ``feedback-disabled``
          matching BOUNCE and COMPLAINT; 3 -> none.

        Drawn from ``random.Random(seed)``: TrackingOptions (a custom redirect
        domain for ~30%) and SuppressionOptions (absent for ~40%, else
        SuppressedReasons BOUNCE+COMPLAINT, BOUNCE only, or none).  An existing
        set of the same name is replaced.

        Returns:
            The names in creation (and ListConfigurationSets) order.
        """
        return _seed.seed_configuration_sets(_backend(region, account_id), count, prefix, seed)

    def seed_suppressions(
        self,
        region: str,
        count: int,
        *,
        seed: int = 0,
        account_id: str = DEFAULT_ACCOUNT,
    ) -> list[str]:
        """Put ``suppressed-{i:07d}@example.com`` (i < count) on the account's suppression list.

        Drawn from ``random.Random(seed)``: Reason (70% BOUNCE, 30% COMPLAINT)
        and LastUpdateTime, spread uniformly over the 400 days before the call.
        Stored compactly; 100,000 addresses take well under a second.
        Existing entries with the same address are overwritten.

        Returns:
            The addresses, in index order.
        """
        return _seed.seed_suppressions(_backend(region, account_id), count, seed)

    def seed_contact_lists(
        self,
        region: str,
        lists: int,
        contacts_per_list: int,
        *,
        seed: int = 0,
        account_id: str = DEFAULT_ACCOUNT,
    ) -> list[str]:
        """Create contact lists ``contacts-{i}`` with contacts ``contact-{j:06d}@example.com``.

        Even lists have the topics ``newsletter`` (default OPT_IN) and
        ``product-updates`` (default OPT_OUT); odd lists also ``offers`` (default
        OPT_OUT).  Drawn from ``random.Random(seed)`` per contact and topic: an
        explicit OPT_IN (40%), OPT_OUT (20%) or no preference (40%); and
        UnsubscribeAll for ~5% of contacts.  An existing list of the same name
        is replaced.

        Returns:
            The list names in creation (and ListContactLists) order.
        """
        return _seed.seed_contact_lists(
            _backend(region, account_id), lists, contacts_per_list, seed
        )

    def seed_templates(
        self, region: str, count: int, *, account_id: str = DEFAULT_ACCOUNT
    ) -> list[str]:
        """Create email templates ``template-{i:03d}`` with Subject, Text and Html parts.

        Returns:
            The names in creation (and ListEmailTemplates) order.
        """
        return _seed.seed_templates(_backend(region, account_id), count)

    def seed_custom_verification_templates(
        self, region: str, count: int, *, account_id: str = DEFAULT_ACCOUNT
    ) -> list[str]:
        """Create custom verification email templates ``verification-{i:03d}``.

        SES allows 50 per account; seeding does not enforce that (the API does).

        Returns:
            The names in creation (and ListCustomVerificationEmailTemplates) order.
        """
        return _seed.seed_custom_verification_templates(_backend(region, account_id), count)

    # -- organizations ---------------------------------------------------------

    def create_organization(
        self,
        members: int = 3,
        *,
        role_name: str = "OrganizationAccountAccessRole",
        suspended: int = 0,
        without_role: int = 0,
    ) -> OrgInfo:
        """Create an organization managed by :data:`DEFAULT_ACCOUNT`, with member accounts.

        Through moto's Organizations backend: ``members`` ACTIVE accounts with
        IAM role ``role_name``, then ``suspended`` accounts marked SUSPENDED
        (they keep the role), then ``without_role`` ACTIVE accounts whose role
        is deleted.  AssumeRole into ``arn:aws:iam::<id>:role/<role_name>``
        succeeds exactly where the role exists (the management account has no
        such role unless you create it); keys it hands out act as that account.

        Raises:
            RuntimeError: an organization already exists (call :meth:`reset` first).
        """
        _require_moto()
        from moto.iam.models import iam_backends
        from moto.organizations.models import organizations_backends

        backend = organizations_backends[DEFAULT_ACCOUNT]["aws"]
        if backend.org is not None:
            raise RuntimeError("an organization already exists; call reset() first")
        backend.create_organization(region="us-east-1", FeatureSet="ALL")
        info = OrgInfo(management_account=DEFAULT_ACCOUNT, role_name=role_name)
        groups = (
            (info.member_accounts, members, "member"),
            (info.suspended_accounts, suspended, "suspended"),
            (info.accounts_without_role, without_role, "norole"),
        )
        for target, count, label in groups:
            for i in range(count):
                status = backend.create_account(
                    AccountName=f"{label}-{i}",
                    Email=f"{label}-{i}@example.com",
                    RoleName=role_name,
                )
                target.append(status["CreateAccountStatus"]["AccountId"])
        for account in backend.accounts:
            if account.id in info.suspended_accounts:
                account.close()
        for account_id in info.accounts_without_role:
            iam_backends[account_id]["global"].delete_role(role_name)
        return info
