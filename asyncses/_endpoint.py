"""Embedded local Amazon SES v2 endpoint, built on moto in server mode.

:class:`LocalSES` runs ``moto.server.ThreadedMotoServer`` on a free local port.
:func:`install_moto_fixes` first patches moto 5.2.5 so that the endpoint behaves
enough like SES v2 to audit:

* ``PageSize`` is parsed as an integer (moto answers HTTP 500 otherwise).
* ``moto.backends.list_of_moto_modules`` is cached (moto rescans its package
  directory on every request).
* ``ListImportJobs``, ``GetImportJob``, ``CreateImportJob``, ``GetDedicatedIps``,
  ``GetDedicatedIp`` and ``PutEmailIdentityMailFromAttributes`` are added.
* A duplicate ``CreateDedicatedIpPool`` raises ``AlreadyExistsException`` and
  deleting an unknown pool raises ``NotFoundException``.
* ``GetEmailIdentity`` returns the stored DKIM, MAIL FROM, policy and tag state.
* Answers carry ``Content-Type: application/json`` and a single ``Server`` header,
  and the server does not log every request.

The same process can seed state straight onto moto's backend objects, which is
much faster than thousands of API calls.  The demo CLI and the test suite both
use this module.  moto is an optional dependency, so it is imported lazily.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer
    from moto.ses.models import EmailIdentity, SESBackend
    from moto.sesv2.models import SESV2Backend
    from moto.sesv2.responses import SESV2Response

__all__ = ["DEFAULT_ACCOUNT", "LocalSES", "install_moto_fixes"]

DEFAULT_ACCOUNT = "123456789012"
"""moto's default account id; requests signed with unknown keys land here."""

_MOTO_MISSING = "the embedded SES endpoint needs moto: pip install 'asyncses[demo]'"

VERIFICATION_STATUSES = ("SUCCESS", "PENDING", "FAILED", "TEMPORARY_FAILURE", "NOT_STARTED")
DKIM_STATUSES = VERIFICATION_STATUSES
MAIL_FROM_STATUSES = ("SUCCESS", "PENDING", "FAILED", "TEMPORARY_FAILURE")
BEHAVIORS_ON_MX_FAILURE = ("USE_DEFAULT_VALUE", "REJECT_MESSAGE")
IMPORT_JOB_STATUSES = ("CREATED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED")
WARMUP_STATUSES = ("IN_PROGRESS", "DONE", "NOT_APPLICABLE")

_FINISHED_JOB_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
# SES v1 (which moto's v2 backend reuses) spells BehaviorOnMXFailure differently.
_MX_BEHAVIOR_V1 = {"USE_DEFAULT_VALUE": "UseDefaultValue", "REJECT_MESSAGE": "RejectMessage"}
_MX_BEHAVIOR_V2 = {v1: v2 for v2, v1 in _MX_BEHAVIOR_V1.items()}
_DEFAULT_PAGE_SIZE = 100
_EXTRAS_ATTR = "_asyncses_extras"
_TOKEN_PREFIX = "asyncses:"
# Extra routes for operations moto lacks.  The ``/v2/.*`` catch-all in moto's
# urls.py is not a regex for Flask, so server mode needs every path spelled out.
_EXTRA_URL_PATHS = (
    "{0}/v2/email/import-jobs$",
    "{0}/v2/email/import-jobs/list$",
    "{0}/v2/email/import-jobs/(?P<JobId>[^/]+)$",
    "{0}/v2/email/dedicated-ips$",
    "{0}/v2/email/dedicated-ips/(?P<IP>[^/]+)$",
    "{0}/v2/email/identities/(?P<EmailIdentity>[^/]+)/mail-from$",
)

_T = TypeVar("_T")
_fix_lock = threading.Lock()
_extras_lock = threading.Lock()
_fixes_installed = False


# --------------------------------------------------------------------------
# State moto has no place for: import jobs and dedicated IPs
# --------------------------------------------------------------------------


@dataclass
class _ImportJob:
    """One SES v2 import job, stored per (account, region)."""

    job_id: str
    destination: dict[str, Any]
    data_source: dict[str, str]
    status: str
    created: float
    completed: float | None = None
    processed: int = 0
    failed: int = 0
    failure_info: dict[str, str] | None = None

    @property
    def destination_type(self) -> str:
        """``SUPPRESSION_LIST`` or ``CONTACT_LIST``, as ListImportJobs filters."""
        if "SuppressionListDestination" in self.destination:
            return "SUPPRESSION_LIST"
        return "CONTACT_LIST"

    def summary(self) -> dict[str, Any]:
        """The ``ImportJobSummary`` shape of ListImportJobs."""
        return {
            "JobId": self.job_id,
            "ImportDestination": self.destination,
            "JobStatus": self.status,
            "CreatedTimestamp": self.created,
            "ProcessedRecordsCount": self.processed,
            "FailedRecordsCount": self.failed,
        }

    def detail(self) -> dict[str, Any]:
        """The GetImportJob answer."""
        body = self.summary()
        body["ImportDataSource"] = self.data_source
        if self.completed is not None:
            body["CompletedTimestamp"] = self.completed
        if self.failure_info is not None:
            body["FailureInfo"] = self.failure_info
        return body


@dataclass
class _DedicatedIp:
    """One dedicated IP address of a STANDARD pool."""

    ip: str
    warmup_status: str
    warmup_percentage: int
    pool_name: str

    def to_dict(self) -> dict[str, Any]:
        """The ``DedicatedIp`` shape."""
        return {
            "Ip": self.ip,
            "WarmupStatus": self.warmup_status,
            "WarmupPercentage": self.warmup_percentage,
            "PoolName": self.pool_name,
        }


@dataclass
class _Extras:
    """Per-(account, region) state, kept in the sesv2 backend's ``__dict__``.

    moto's reset (``BaseBackend.reset`` empties ``__dict__`` and the backend
    dicts are cleared) therefore drops it together with the rest of the state.
    """

    import_jobs: dict[str, _ImportJob] = field(default_factory=dict)
    dedicated_ips: dict[str, _DedicatedIp] = field(default_factory=dict)
    ip_counter: int = 0


def _extras(backend: SESV2Backend) -> _Extras:
    """The extra state attached to one sesv2 backend, created on first use."""
    found = backend.__dict__.get(_EXTRAS_ATTR)
    if isinstance(found, _Extras):
        return found
    with _extras_lock:
        created = backend.__dict__.setdefault(_EXTRAS_ATTR, _Extras())
    assert isinstance(created, _Extras)
    return created


# --------------------------------------------------------------------------
# Helpers for handlers
# --------------------------------------------------------------------------


def _require_moto() -> None:
    """Raise the friendly RuntimeError if moto (with its server extra) is missing."""
    try:
        import moto.server  # noqa: F401  (moto plus its server extra)
    except ImportError as exc:
        raise RuntimeError(_MOTO_MISSING) from exc


def _error(code: str, message: str, status: int) -> Exception:
    """A moto JSON error: HTTP ``status``, ``x-amzn-ErrorType: code``, ``{"message": ...}``."""
    from moto.core.exceptions import JsonRESTError

    err = JsonRESTError(code, message)
    err.code = status
    return err


def _json_body(response: SESV2Response) -> dict[str, Any]:
    """The request's JSON body as a dict (empty if there is none)."""
    raw = response.body
    if not raw:
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _error("BadRequestException", "Request body is not valid JSON", 400) from exc
    if not isinstance(data, dict):
        raise _error("BadRequestException", "Request body must be a JSON object", 400)
    return data


def _page_size(value: Any) -> int:
    """Validate a PageSize value (string from a query or int from a JSON body)."""
    if value is None:
        return _DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except (TypeError, ValueError) as exc:
        raise _error("BadRequestException", f"Invalid PageSize: {value!r}", 400) from exc
    if size < 1:
        raise _error("BadRequestException", "PageSize must be at least 1", 400)
    return size


def _paginate(
    items: Sequence[_T], token: str | None, page_size: int
) -> tuple[list[_T], str | None]:
    """Offset pagination with opaque tokens; an invalid token is a BadRequestException."""
    start = 0
    if token:
        try:
            decoded = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
            if not decoded.startswith(_TOKEN_PREFIX):
                raise ValueError(decoded)
            start = int(decoded[len(_TOKEN_PREFIX) :])
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise _error("BadRequestException", "Invalid NextToken", 400) from exc
    end = start + page_size
    next_token = None
    if end < len(items):
        next_token = base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{end}".encode("ascii")).decode(
            "ascii"
        )
    return list(items[start:end]), next_token


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without keys whose value is None."""
    return {key: value for key, value in data.items() if value is not None}


def _identity_arn(backend: SESV2Backend, name: str) -> str:
    """The ARN moto's tagger uses for an email identity."""
    return f"arn:{backend.partition}:ses:{backend.region_name}:{backend.account_id}:identity/{name}"


def _identity_body(backend: SESV2Backend, identity: EmailIdentity) -> dict[str, Any]:
    """GetEmailIdentity answer built from the stored identity state."""
    core = backend.core_backend
    name = identity.email_identity
    tags: list[dict[str, str]] = []
    for arn in (
        f"arn:{backend.partition}:ses:{backend.region_name}:{backend.account_id}:email-identity/{name}",
        _identity_arn(backend, name),
    ):
        tags = core.tagger.list_tags_for_resource(arn).get("Tags", [])
        if tags:
            break
    if not tags and identity.tags:
        tags = list(identity.tags)
    body: dict[str, Any] = {
        "IdentityType": identity.identity_type,
        "FeedbackForwardingStatus": identity.feedback_forwarding_status,
        "VerifiedForSendingStatus": identity.verified_for_sending_status,
        "DkimAttributes": _drop_none(dict(identity.dkim_attributes)),
        "Policies": dict(identity.policies),
        "Tags": tags,
        "ConfigurationSetName": identity.configuration_set_name,
        "VerificationStatus": identity.verification_status,
    }
    mail_from = core.identity_mail_from_domains.get(name) or {}
    if mail_from.get("mail_from_domain"):
        behavior = mail_from.get("behavior_on_mx_failure") or "UseDefaultValue"
        body["MailFromAttributes"] = {
            "MailFromDomain": mail_from["mail_from_domain"],
            "MailFromDomainStatus": mail_from.get("mail_from_domain_status", "SUCCESS"),
            "BehaviorOnMxFailure": _MX_BEHAVIOR_V2.get(behavior, behavior),
        }
    return _drop_none(body)


# --------------------------------------------------------------------------
# Replacement and additional SESV2Response handlers
# --------------------------------------------------------------------------


def _list_email_identities(self: SESV2Response) -> str:
    """ListEmailIdentities with PageSize parsed as an int."""
    identities, next_token = self.sesv2_backend.list_email_identities(
        next_token=self._get_param("NextToken"),
        page_size=_page_size(self._get_param("PageSize")),
    )
    return json.dumps(
        {
            "EmailIdentities": [identity.list_response_object for identity in identities],
            "NextToken": next_token,
        }
    )


def _list_dedicated_ip_pools(self: SESV2Response) -> str:
    """ListDedicatedIpPools with PageSize parsed as an int."""
    pools, next_token = self.sesv2_backend.list_dedicated_ip_pools(
        next_token=self._get_param("NextToken"),
        page_size=_page_size(self._get_param("PageSize")),
    )
    return json.dumps({"DedicatedIpPools": pools, "NextToken": next_token})


def _list_configuration_sets(self: SESV2Response) -> str:
    """ListConfigurationSets with PageSize parsed as an int."""
    config_sets, next_token = self.sesv2_backend.list_configuration_sets(
        next_token=self._get_param("NextToken"),
        page_size=_page_size(self._get_param("PageSize")),
    )
    return json.dumps(
        {
            "ConfigurationSets": [c.configuration_set_name for c in config_sets],
            "NextToken": next_token,
        }
    )


def _create_dedicated_ip_pool(self: SESV2Response) -> str:
    """CreateDedicatedIpPool that rejects a duplicate name like SES does."""
    pool_name = self._get_param("PoolName")
    if pool_name in self.sesv2_backend.core_backend.dedicated_ip_pools:
        raise _error("AlreadyExistsException", f"Pool {pool_name} already exists.", 400)
    self.sesv2_backend.create_dedicated_ip_pool(
        pool_name=pool_name,
        tags=self._get_param("Tags"),
        scaling_mode=self._get_param("ScalingMode") or "STANDARD",
    )
    return json.dumps({})


def _delete_dedicated_ip_pool(self: SESV2Response) -> str:
    """DeleteDedicatedIpPool: NotFoundException for an unknown pool; drops its IPs."""
    backend = self.sesv2_backend
    pool_name = self._get_param("PoolName")
    if pool_name not in backend.core_backend.dedicated_ip_pools:
        raise _error("NotFoundException", f"Pool {pool_name} does not exist.", 404)
    backend.delete_dedicated_ip_pool(pool_name=pool_name)
    ips = _extras(backend).dedicated_ips
    for ip in [ip for ip, record in ips.items() if record.pool_name == pool_name]:
        del ips[ip]
    return json.dumps({})


def _get_email_identity(self: SESV2Response) -> str:
    """GetEmailIdentity including MailFromAttributes, Tags and DKIM tokens."""
    backend = self.sesv2_backend
    identity = backend.get_email_identity(email_identity=self._get_param("EmailIdentity"))
    return json.dumps(_identity_body(backend, identity))


def _put_email_identity_mail_from_attributes(self: SESV2Response) -> str:
    """PutEmailIdentityMailFromAttributes (stored where SES v1 keeps it too)."""
    backend = self.sesv2_backend
    name = self._get_param("EmailIdentity")
    if name not in backend.core_backend.email_identities:
        raise _error("NotFoundException", f"Email identity {name} does not exist.", 404)
    params = _json_body(self)
    domain = params.get("MailFromDomain")
    behavior = params.get("BehaviorOnMxFailure") or "USE_DEFAULT_VALUE"
    if behavior not in _MX_BEHAVIOR_V1:
        raise _error("BadRequestException", f"Invalid BehaviorOnMxFailure: {behavior}", 400)
    _set_mail_from(backend.core_backend, name, domain or "", None, behavior)
    return json.dumps({})


def _create_import_job(self: SESV2Response) -> str:
    """CreateImportJob: stores a CREATED job and answers its JobId."""
    params = _json_body(self)
    destination = params.get("ImportDestination")
    data_source = params.get("ImportDataSource")
    if not isinstance(destination, dict) or not (
        "SuppressionListDestination" in destination or "ContactListDestination" in destination
    ):
        raise _error("BadRequestException", "ImportDestination is required", 400)
    if not isinstance(data_source, dict) or "S3Url" not in data_source:
        raise _error("BadRequestException", "ImportDataSource is required", 400)
    job = _ImportJob(
        job_id=str(uuid.uuid4()),
        destination=destination,
        data_source=data_source,
        status="CREATED",
        created=round(time.time(), 3),
    )
    _extras(self.sesv2_backend).import_jobs[job.job_id] = job
    return json.dumps({"JobId": job.job_id})


def _list_import_jobs(self: SESV2Response) -> str:
    """ListImportJobs with the ImportDestinationType filter and pagination."""
    params = _json_body(self)
    wanted = params.get("ImportDestinationType")
    if wanted is not None and wanted not in ("SUPPRESSION_LIST", "CONTACT_LIST"):
        raise _error("BadRequestException", f"Invalid ImportDestinationType: {wanted}", 400)
    jobs = [
        job
        for job in list(_extras(self.sesv2_backend).import_jobs.values())
        if wanted is None or job.destination_type == wanted
    ]
    page, next_token = _paginate(jobs, params.get("NextToken"), _page_size(params.get("PageSize")))
    return json.dumps(
        _drop_none({"ImportJobs": [job.summary() for job in page], "NextToken": next_token})
    )


def _get_import_job(self: SESV2Response) -> str:
    """GetImportJob, or NotFoundException (404) for an unknown JobId."""
    job_id = self._get_param("JobId")
    job = _extras(self.sesv2_backend).import_jobs.get(job_id)
    if job is None:
        raise _error("NotFoundException", f"Import job {job_id} does not exist.", 404)
    return json.dumps(job.detail())


def _get_dedicated_ips(self: SESV2Response) -> str:
    """GetDedicatedIps, optionally for one pool, paginated."""
    backend = self.sesv2_backend
    pool_name = self._get_param("PoolName")
    if pool_name and pool_name not in backend.core_backend.dedicated_ip_pools:
        raise _error("NotFoundException", f"Pool {pool_name} does not exist.", 404)
    ips = [
        ip
        for ip in list(_extras(backend).dedicated_ips.values())
        if not pool_name or ip.pool_name == pool_name
    ]
    page, next_token = _paginate(
        ips, self._get_param("NextToken"), _page_size(self._get_param("PageSize"))
    )
    return json.dumps(
        _drop_none({"DedicatedIps": [ip.to_dict() for ip in page], "NextToken": next_token})
    )


def _get_dedicated_ip(self: SESV2Response) -> str:
    """GetDedicatedIp, or NotFoundException for an unknown address."""
    address = self._get_param("IP")
    record = _extras(self.sesv2_backend).dedicated_ips.get(address)
    if record is None:
        raise _error("NotFoundException", f"Dedicated IP {address} does not exist.", 404)
    return json.dumps({"DedicatedIp": record.to_dict()})


def _setup_class(self: SESV2Response, *args: Any, **kwargs: Any) -> None:
    """BaseResponse.setup_class, then answer ``Content-Type: application/json``.

    moto's SES v2 handlers return bare strings, which Flask labels text/html.
    """
    from moto.core.responses import BaseResponse

    BaseResponse.setup_class(self, *args, **kwargs)
    self.response_headers["Content-Type"] = "application/json"


_HANDLERS = {
    "setup_class": _setup_class,
    "list_email_identities": _list_email_identities,
    "list_dedicated_ip_pools": _list_dedicated_ip_pools,
    "list_configuration_sets": _list_configuration_sets,
    "create_dedicated_ip_pool": _create_dedicated_ip_pool,
    "delete_dedicated_ip_pool": _delete_dedicated_ip_pool,
    "get_email_identity": _get_email_identity,
    "put_email_identity_mail_from_attributes": _put_email_identity_mail_from_attributes,
    "create_import_job": _create_import_job,
    "list_import_jobs": _list_import_jobs,
    "get_import_job": _get_import_job,
    "get_dedicated_ips": _get_dedicated_ips,
    "get_dedicated_ip": _get_dedicated_ip,
}


# --------------------------------------------------------------------------
# install_moto_fixes
# --------------------------------------------------------------------------


def _cache_moto_module_list() -> None:
    """Make ``moto.backends.list_of_moto_modules`` answer from a cached tuple.

    moto 5.2.5's server calls it for every request (``host in
    list_of_moto_modules()`` in ``DomainDispatcherApplication.get_backend_for_host``),
    and each call lists and stats moto's whole package directory.  The
    directory does not change while the process runs, and a tuple supports both
    ``in`` and iteration, so the cached answer is a drop-in replacement.
    """
    import moto.backends

    modules = tuple(moto.backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return modules

    list_of_moto_modules.__doc__ = "Cached by asyncses: moto's backend package names."
    setattr(moto.backends, "list_of_moto_modules", list_of_moto_modules)  # noqa: B010


def install_moto_fixes() -> None:
    """Patch moto for the embedded SES v2 endpoint (see the module docstring).

    Idempotent and thread-safe.  Must run before the server handles its first
    SES v2 request: a server builds its Flask routes from
    ``moto.sesv2.urls.url_paths`` once, on that first request.

    Raises:
        RuntimeError: moto (with its server extra) is not installed.
    """
    global _fixes_installed
    _require_moto()
    with _fix_lock:
        if _fixes_installed:
            return
        from moto.sesv2 import urls
        from moto.sesv2.responses import SESV2Response

        _cache_moto_module_list()
        for name, handler in _HANDLERS.items():
            setattr(SESV2Response, name, handler)
        for path in _EXTRA_URL_PATHS:
            urls.url_paths.setdefault(path, SESV2Response.dispatch)
        _fixes_installed = True


# --------------------------------------------------------------------------
# Backend-level state helpers (used by LocalSES seeding)
# --------------------------------------------------------------------------


def _backend(region: str, account_id: str) -> SESV2Backend:
    """moto's sesv2 backend for one account and region (same process as the server)."""
    _require_moto()
    from moto.sesv2.models import sesv2_backends

    return sesv2_backends[account_id][region]


def _check(value: str | None, allowed: Sequence[str], what: str) -> None:
    """ValueError unless ``value`` is None or one of ``allowed``."""
    if value is not None and value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


def _dkim_tokens(name: str) -> list[str]:
    """Three deterministic DKIM CNAME tokens for a domain identity."""
    return [hashlib.sha1(f"{name}/{n}".encode()).hexdigest()[:32] for n in range(3)]


def _ensure_identity(core: SESBackend, name: str) -> EmailIdentity:
    """The identity ``name``, created (as CreateEmailIdentity would) if missing."""
    identity = core.email_identities.get(name)
    if identity is None:
        identity = core.create_email_identity_v2(name, None, None, None)
    return identity


def _set_verification(identity: EmailIdentity, status: str) -> None:
    """Set VerificationStatus and the VerifiedForSendingStatus that follows from it."""
    identity.verification_status = status
    identity.verified_for_sending_status = status == "SUCCESS"


def _set_dkim(
    core: SESBackend, identity: EmailIdentity, status: str | None, signing: bool | None
) -> None:
    """Set the DKIM status and/or SigningEnabled; domains get tokens once DKIM is set up."""
    attrs = identity.dkim_attributes
    if signing is not None:
        attrs["SigningEnabled"] = signing
    if status is not None:
        attrs["Status"] = status
        if identity.identity_type == "DOMAIN" and status != "NOT_STARTED":
            tokens = _dkim_tokens(identity.email_identity)
            attrs["Tokens"] = tokens
            attrs.setdefault("SigningAttributesOrigin", "AWS_SES")
            attrs["NextSigningKeyLength"] = "RSA_2048_BIT"
            attrs["CurrentSigningKeyLength"] = "RSA_2048_BIT"
            core.dkim_tokens[identity.email_identity] = tokens


def _set_mail_from(
    core: SESBackend, name: str, domain: str | None, status: str | None, behavior: str | None
) -> None:
    """Set or clear (``domain == ""``) an identity's MAIL FROM attributes.

    Stored in ``core.identity_mail_from_domains`` (where moto's SES v1 API keeps
    them), with an extra ``mail_from_domain_status`` key for SES v2.
    """
    if domain == "":
        core.identity_mail_from_domains.pop(name, None)
        return
    current = core.identity_mail_from_domains.get(name)
    if domain is None:
        if current is None:
            if status is not None or behavior is not None:
                raise ValueError(f"{name} has no MAIL FROM domain; pass mail_from_domain too")
            return
        domain = str(current["mail_from_domain"])
    record: dict[str, Any] = dict(current or {})
    record["mail_from_domain"] = domain
    record.setdefault("mail_from_domain_status", "SUCCESS")
    record.setdefault("behavior_on_mx_failure", "UseDefaultValue")
    if status is not None:
        record["mail_from_domain_status"] = status
    if behavior is not None:
        record["behavior_on_mx_failure"] = _MX_BEHAVIOR_V1[behavior]
    core.identity_mail_from_domains[name] = record


def _weighted(rng: random.Random, choices: Sequence[str], weights: Sequence[int]) -> str:
    """One deterministic weighted choice."""
    return rng.choices(choices, weights=weights)[0]


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


def _make_server(host: str, port: int) -> ThreadedMotoServer:
    """A quiet ThreadedMotoServer: no request log, one Server header, closes its socket."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class _QuietHandler(MotoRequestHandler):
        """Request handler without access log lines or Werkzeug's Server header."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Do not log every request."""

        def send_header(self, keyword: str, value: str) -> None:
            """Drop Werkzeug's own ``Server`` header; moto sends ``Server: amazon.com``."""
            if keyword.lower() == "server" and value == self.version_string():
                return
            super().send_header(keyword, value)

    class _Server(ThreadedMotoServer):
        """ThreadedMotoServer that reports bind errors instead of hanging in start()."""

        startup_error: BaseException | None = None

        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            try:
                self._server = make_server(
                    self._ip_address, self._port, app, True, request_handler=_QuietHandler
                )
            except BaseException as exc:  # reported by LocalSES.start
                self.startup_error = exc
                self._server_ready_event.set()
                return
            self._server_ready_event.set()
            self._server.serve_forever()

        def stop(self) -> None:
            super().stop()
            if self._server is not None:
                self._server.server_close()

    return _Server(ip_address=host, port=port, verbose=False)


class LocalSES:
    """The embedded local SES v2 endpoint (moto server mode on a free port).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.  Point
    clients at :attr:`url`.  Seeding methods write straight to moto's backend
    objects in this process.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Configure the endpoint; ``port=0`` lets the OS pick a free port."""
        self.host = host
        self.port = port
        self.url = ""
        self._server: ThreadedMotoServer | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Install the moto fixes, then start the server and set :attr:`url`."""
        if self._server is not None:
            raise RuntimeError("LocalSES is already running")
        install_moto_fixes()
        server = _make_server(self.host, self.port)
        server.start()
        error = getattr(server, "startup_error", None)
        if error is not None:
            # werkzeug reports a bind failure on stderr and raises SystemExit(1).
            reason = "cannot bind the address" if isinstance(error, SystemExit) else repr(error)
            raise RuntimeError(
                f"cannot start the local SES endpoint on {self.host}:{self.port}: {reason}"
            ) from error
        host, port = server.get_host_and_port()
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
        """Stop the server (no-op if it is not running)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

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
        """Clear all moto state (POST ``/moto-api/reset``), including import jobs and IPs."""
        if self._server is None:
            raise RuntimeError("LocalSES is not running")
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

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
        core = _backend(region, account_id).core_backend
        rng = random.Random(seed)
        names: list[str] = []
        for i in range(count):
            is_email = i % 4 == 3
            name = f"{prefix}-{i:05d}@example.com" if is_email else f"{prefix}-{i:05d}.example.com"
            identity = _ensure_identity(core, name)
            _set_verification(identity, _weighted(rng, VERIFICATION_STATUSES, (80, 8, 5, 4, 3)))
            identity.sending_enabled = rng.random() >= 0.05
            identity.feedback_forwarding_status = rng.random() >= 0.10
            dkim_status = _weighted(rng, DKIM_STATUSES, (85, 5, 4, 3, 3))
            signing = rng.random() >= 0.15
            has_mail_from = rng.random() < 0.30
            mail_from_status = _weighted(rng, MAIL_FROM_STATUSES, (70, 15, 10, 5))
            behavior = _weighted(rng, BEHAVIORS_ON_MX_FAILURE, (70, 30))
            has_policy = rng.random() < 0.10
            if not is_email:
                _set_dkim(core, identity, dkim_status, signing)
                if has_mail_from:
                    _set_mail_from(core, name, f"mail.{name}", mail_from_status, behavior)
                if has_policy:
                    identity.policies["sending-authorization"] = _sending_policy(
                        region, account_id, name
                    )
            names.append(name)
        return names

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
    ) -> None:
        """Create identity ``name`` if missing and set the given fields (None = unchanged).

        ``verification_status`` also sets VerifiedForSendingStatus (True only for
        SUCCESS).  ``mail_from_domain=""`` removes the MAIL FROM domain;
        ``mail_from_status`` needs a MAIL FROM domain (given or already set).
        ``policies`` replaces all policies.

        Raises:
            ValueError: a status outside the SES v2 enum, or a MAIL FROM status without a domain.
        """
        _check(verification_status, VERIFICATION_STATUSES, "verification_status")
        _check(dkim_status, DKIM_STATUSES, "dkim_status")
        _check(mail_from_status, MAIL_FROM_STATUSES, "mail_from_status")
        core = _backend(region, account_id).core_backend
        identity = _ensure_identity(core, name)
        if verification_status is not None:
            _set_verification(identity, verification_status)
        _set_dkim(core, identity, dkim_status, dkim_signing_enabled)
        if sending_enabled is not None:
            identity.sending_enabled = sending_enabled
        if mail_from_domain is not None or mail_from_status is not None:
            _set_mail_from(core, name, mail_from_domain, mail_from_status, None)
        if policies is not None:
            identity.policies = dict(policies)

    def delete_identity(self, region: str, name: str, *, account_id: str = DEFAULT_ACCOUNT) -> None:
        """Delete identity ``name`` and its MAIL FROM and DKIM token state (no-op if missing)."""
        core = _backend(region, account_id).core_backend
        core.email_identities.pop(name, None)
        core.identity_mail_from_domains.pop(name, None)
        core.dkim_tokens.pop(name, None)

    # -- dedicated IP pools ------------------------------------------------------

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
        from moto.ses.models import DedicatedIpPool

        backend = _backend(region, account_id)
        core = backend.core_backend
        extras = _extras(backend)
        names: list[str] = []
        for i in range(count):
            name = f"{prefix}-{i:03d}"
            mode = "MANAGED" if i % 3 == 2 else "STANDARD"
            core.dedicated_ip_pools[name] = DedicatedIpPool(
                pool_name=name, scaling_mode=mode, tags=[]
            )
            for ip in [
                ip for ip, record in extras.dedicated_ips.items() if record.pool_name == name
            ]:
                del extras.dedicated_ips[ip]
            if mode == "STANDARD":
                for _ in range(ips_per_pool):
                    extras.ip_counter += 1
                    n = extras.ip_counter
                    address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
                    phase = n % 4
                    if phase == 2:
                        status, percentage = "IN_PROGRESS", (n * 37) % 99 + 1
                    elif phase == 3:
                        status, percentage = "NOT_APPLICABLE", 0
                    else:
                        status, percentage = "DONE", 100
                    extras.dedicated_ips[address] = _DedicatedIp(address, status, percentage, name)
            names.append(name)
        return names

    # -- import jobs -------------------------------------------------------------

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
        extras = _extras(_backend(region, account_id))
        rng = random.Random(seed * 1_000_003 + len(extras.import_jobs))
        now = time.time()
        job_ids: list[str] = []
        for i in range(count):
            job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            action = _weighted(rng, ("PUT", "DELETE"), (80, 20))
            destination: dict[str, Any]
            if i % 2 == 0:
                destination = {
                    "SuppressionListDestination": {"SuppressionListImportAction": action}
                }
            else:
                destination = {
                    "ContactListDestination": {
                        "ContactListName": f"contacts-{i % 3}",
                        "ContactListImportAction": action,
                    }
                }
            data_format = _weighted(rng, ("CSV", "JSON"), (70, 30))
            status = IMPORT_JOB_STATUSES[(i // 2) % len(IMPORT_JOB_STATUSES)]
            created = round(now - (count - i) * 3600 - rng.uniform(0, 1800), 3)
            job = _ImportJob(
                job_id=job_id,
                destination=destination,
                data_source={
                    "S3Url": f"s3://asyncses-demo-imports/import-{i:05d}.{data_format.lower()}",
                    "DataFormat": data_format,
                },
                status=status,
                created=created,
            )
            if status in _FINISHED_JOB_STATUSES:
                job.completed = round(created + rng.uniform(30, 3000), 3)
            if status == "PROCESSING":
                job.processed = rng.randint(10, 5000)
                job.failed = rng.randint(0, job.processed // 100)
            elif status == "COMPLETED":
                job.processed = rng.randint(100, 20000)
                job.failed = rng.randint(0, job.processed // 50)
            elif status == "CANCELLED":
                job.processed = rng.randint(0, 2000)
                job.failed = rng.randint(0, job.processed // 50)
            elif status == "FAILED":
                job.processed = rng.randint(0, 500)
                job.failed = rng.randint(1, 500)
                job.failure_info = {
                    "FailedRecordsS3Url": f"https://asyncses-demo-imports.s3.amazonaws.com/failures/{job_id}.csv",
                    "ErrorMessage": rng.choice(
                        (
                            "The input file is not in a supported format.",
                            "Access denied to the import data source.",
                            "Too many records failed validation.",
                        )
                    ),
                }
            extras.import_jobs[job_id] = job
            job_ids.append(job_id)
        return job_ids


def _sending_policy(region: str, account_id: str, name: str) -> str:
    """A small sending-authorization policy document for identity ``name``."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowPartnerSend",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                    "Resource": f"arn:aws:ses:{region}:{account_id}:identity/{name}",
                }
            ],
        }
    )
