"""Everything that is specific to Amazon SES v2 and botocore, in one place.

Operation names, error codes, the translation of botocore's exceptions into the asyncses error
tree (:func:`translate_errors`), and the conversion of responses into JSON-ready records.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import aiohttp
import botocore.exceptions

from ._exceptions import (
    AccessError,
    AlreadyExistsError,
    EndpointError,
    NoCredentialsError,
    NotFoundError,
    OperationError,
    ServiceError,
    ThrottledError,
    UsageError,
)

SERVICE: Final = "sesv2"

# Operations, by their API names (error records and logs use these).
LIST_EMAIL_IDENTITIES: Final = "ListEmailIdentities"
GET_EMAIL_IDENTITY: Final = "GetEmailIdentity"
LIST_DEDICATED_IP_POOLS: Final = "ListDedicatedIpPools"
GET_DEDICATED_IP_POOL: Final = "GetDedicatedIpPool"
GET_DEDICATED_IPS: Final = "GetDedicatedIps"
LIST_IMPORT_JOBS: Final = "ListImportJobs"
GET_IMPORT_JOB: Final = "GetImportJob"
CREATE_DEDICATED_IP_POOL: Final = "CreateDedicatedIpPool"
GET_CALLER_IDENTITY: Final = "GetCallerIdentity"

#: API operation name -> botocore client method name.
METHODS: Final[Mapping[str, str]] = {
    LIST_EMAIL_IDENTITIES: "list_email_identities",
    GET_EMAIL_IDENTITY: "get_email_identity",
    LIST_DEDICATED_IP_POOLS: "list_dedicated_ip_pools",
    GET_DEDICATED_IP_POOL: "get_dedicated_ip_pool",
    GET_DEDICATED_IPS: "get_dedicated_ips",
    LIST_IMPORT_JOBS: "list_import_jobs",
    GET_IMPORT_JOB: "get_import_job",
    CREATE_DEDICATED_IP_POOL: "create_dedicated_ip_pool",
    GET_CALLER_IDENTITY: "get_caller_identity",
}

#: Lookups that are a GET of one URI label: operation -> label. These take the direct path
#: (see :class:`asyncses._botocore.DirectGet`) after their first call.
DIRECT_GETS: Final[Mapping[str, str]] = {
    GET_EMAIL_IDENTITY: "EmailIdentity",
    GET_DEDICATED_IP_POOL: "PoolName",
    GET_IMPORT_JOB: "JobId",
}

#: The largest PageSize SES accepts on its list operations.
MAX_PAGE_SIZE: Final = 1000

SCALING_MODES: Final = ("STANDARD", "MANAGED")
IMPORT_DESTINATION_TYPES: Final = ("SUPPRESSION_LIST", "CONTACT_LIST")

THROTTLE_CODES: Final = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
ACCESS_CODES: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
    }
)
NOT_FOUND_CODES: Final = frozenset({"NotFoundException", "NotFound"})
ALREADY_EXISTS_CODES: Final = frozenset({"AlreadyExistsException"})

_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")

# Things that look like secrets, scrubbed from any message we pass on.
_SECRET_PATTERNS: Final = (
    (re.compile(r"(Signature=)[0-9a-fA-F]+"), r"\1<redacted>"),
    (re.compile(r"(Credential=)[^,\s]+"), r"\1<redacted>"),
    (re.compile(r"(X-Amz-Security-Token[=:]\s*)[^&\s,]+", re.IGNORECASE), r"\1<redacted>"),
    (re.compile(r"(Authorization[\"']?[=:]\s*)[^\n,]+", re.IGNORECASE), r"\1<redacted>"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b"), "<redacted>"),
)


def valid_region(name: str) -> bool:
    """True when ``name`` has the shape of an AWS region name (``eu-west-1``)."""
    return bool(_REGION.match(name))


def scrub(text: str) -> str:
    """``text`` with signatures, credential scopes, tokens and access key ids removed."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@contextmanager
def translate_errors(operation: str, key: str | None = None) -> Iterator[None]:
    """Turn botocore and aiohttp failures inside the block into asyncses errors."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        raise _from_client_error(exc, operation, key) from None
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
        botocore.exceptions.HTTPClientError,
        botocore.exceptions.ConnectionError,  # SSLError and ProxyConnectionError too
        aiohttp.ClientError,
        ConnectionError,
    ) as exc:
        code = type(exc).__name__
        raise EndpointError(scrub(str(exc)), operation=operation, code=code, key=key) from None
    except botocore.exceptions.NoCredentialsError:
        raise NoCredentialsError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE or --profile"
        ) from None
    except botocore.exceptions.ParamValidationError as exc:
        raise UsageError(f"{operation}: {exc}") from None


def _from_client_error(
    exc: botocore.exceptions.ClientError, operation: str, key: str | None
) -> OperationError:
    response: Mapping[str, Any] = exc.response
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    status = meta.get("HTTPStatusCode")
    code = str(error.get("Code") or status or "Unknown")
    message = scrub(str(error.get("Message") or exc))
    kwargs: dict[str, Any] = {"operation": operation, "code": code, "key": key, "status": status}
    cls: type[OperationError]
    if code in THROTTLE_CODES or status == 429:
        cls = ThrottledError
        kwargs["retry_after"] = _retry_after(meta.get("HTTPHeaders") or {})
    elif code in NOT_FOUND_CODES or status == 404:
        cls = NotFoundError
    elif code in ALREADY_EXISTS_CODES:
        cls = AlreadyExistsError
    elif code in ACCESS_CODES or status in (401, 403):
        cls = AccessError
    elif isinstance(status, int) and status >= 500:
        cls = ServiceError
        kwargs["retry_after"] = _retry_after(meta.get("HTTPHeaders") or {})
    else:
        cls = OperationError
    return cls(message, **kwargs)


def utc_iso(value: dt.datetime) -> str:
    """A datetime as an ISO 8601 string in UTC (``2024-05-01T12:00:00Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """A copy of a botocore response value with datetimes as ISO 8601 UTC strings."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
