"""The one place where botocore and aiohttp failures become the engine's errors.

:func:`translate_errors` maps every lower-level failure of a call (a ``ClientError`` by its
code and status, connection errors, credential errors) to the engine's error tree, with
secrets scrubbed from the message: a call's caller only ever sees an
:class:`~asyncses.engine.errors.AsyncsesError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import aiohttp
import botocore.exceptions

from ..engine.errors import (
    AccessError,
    AlreadyExistsError,
    EndpointError,
    NoCredentialsError,
    NotFoundError,
    NotServiceError,
    OperationError,
    ServiceError,
    ThrottledError,
    UsageError,
)

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

# Things that look like secrets, scrubbed from any message we pass on.
_SECRET_PATTERNS: Final = (
    (re.compile(r"(Signature=)[0-9a-fA-F]+"), r"\1<redacted>"),
    (re.compile(r"(Credential=)[^,\s]+"), r"\1<redacted>"),
    (re.compile(r"(X-Amz-Security-Token[=:]\s*)[^&\s,]+", re.IGNORECASE), r"\1<redacted>"),
    (re.compile(r"(Authorization[\"']?[=:]\s*)[^\n,]+", re.IGNORECASE), r"\1<redacted>"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b"), "<redacted>"),
)


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
    except botocore.exceptions.BotoCoreError as exc:  # a region or profile setting, say
        raise UsageError(f"{operation}: {scrub(str(exc))}") from None


def check_answer(answer: Mapping[str, Any], operation: str, key: str | None = None) -> None:
    """Raise :class:`NotServiceError` for a success that is a web page (a captive portal's,
    a proxy's), which botocore reads as an answer with no fields at all."""
    meta = answer.get("ResponseMetadata") or {}
    content_type = str((meta.get("HTTPHeaders") or {}).get("content-type", ""))
    if "html" in content_type.lower():
        status = meta.get("HTTPStatusCode")
        raise NotServiceError(
            f"HTTP {status} ({content_type}): not an answer of the service",
            operation=operation,
            code=str(status),
            key=key,
            status=status,
        )


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
    foreign = _not_service(code, status, meta)
    if foreign:
        content_type = (meta.get("HTTPHeaders") or {}).get("content-type", "no content type")
        message = f"HTTP {status} ({content_type}): not an answer of the service"
    # A 429 or a 5xx is worth trying again whoever sent it (a load balancer's HTML 503, say).
    if code in THROTTLE_CODES or status == 429:
        cls = ThrottledError
        kwargs["retry_after"] = _retry_after(meta.get("HTTPHeaders") or {})
    elif foreign and isinstance(status, int) and status >= 500:
        cls = ServiceError
        kwargs["retry_after"] = _retry_after(meta.get("HTTPHeaders") or {})
    elif foreign:
        cls = NotServiceError
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


def _not_service(code: str, status: Any, meta: Mapping[str, Any]) -> bool:
    """True for an answer the service would not give: no error code of its own (botocore
    then uses the HTTP status as the code) and a body that is not JSON (an HTML page)."""
    if not code.isdigit():
        return False
    content_type = str((meta.get("HTTPHeaders") or {}).get("content-type", ""))
    return "json" not in content_type
