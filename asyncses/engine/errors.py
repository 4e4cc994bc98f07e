"""The errors asyncses raises, all rooted in :class:`AsyncsesError`.

::

    AsyncsesError
    ├── UsageError                 bad argument or configuration, found before any call
    │   └── NoCredentialsError     no credentials anywhere in the chain
    ├── ClientClosedError          a Client used outside its ``async with`` block
    ├── ReportError                an existing report cannot be read (corrupt line)
    ├── ReportWriteError           a report could not be written (disk full, I/O error)
    ├── PaginationError            a listing handed back a page token it had handed out before
    └── OperationError             an AWS call failed for good (carries operation, key, attempts)
        ├── RetryableError         may succeed if tried again
        │   ├── ThrottledError     429 / TooManyRequestsException / ThrottlingException
        │   ├── ServiceError       HTTP 5xx
        │   └── EndpointError      connection refused or reset, DNS failure, timeout
        ├── NotServiceError        the endpoint answered, but not as the service would
        ├── NotFoundError          the item no longer exists (404)
        ├── AlreadyExistsError     the item to create exists already
        └── AccessError            credentials rejected or not allowed (401/403)

The engine owns this tree because it decides what is retried; it names no AWS service.
The SES adapter adds one more :class:`UsageError`, ``UnreachableError``: a unit's first
call did not reach the service (exported as ``asyncses.UnreachableError``).
Lower-level errors (botocore ``ClientError``, connection errors, timeouts) are translated
in exactly one place, :func:`asyncses.ses.errors.translate_errors`.
"""

from __future__ import annotations

__all__ = [
    "AccessError",
    "AlreadyExistsError",
    "AsyncsesError",
    "ClientClosedError",
    "EndpointError",
    "NoCredentialsError",
    "NotFoundError",
    "NotServiceError",
    "OperationError",
    "PaginationError",
    "ReportError",
    "ReportWriteError",
    "RetryableError",
    "ServiceError",
    "ThrottledError",
    "UsageError",
]


class AsyncsesError(Exception):
    """Root of every error asyncses raises on purpose."""


class UsageError(AsyncsesError):
    """An argument or the configuration is invalid; nothing was called."""


class NoCredentialsError(UsageError):
    """No AWS credentials were found in the standard credential chain."""


class ClientClosedError(AsyncsesError):
    """The client was used before ``async with`` or after it was closed."""


class ReportError(AsyncsesError):
    """An existing NDJSON report cannot be read."""


class ReportWriteError(AsyncsesError):
    """A report could not be written (disk full, I/O error, a path found unwritable late).

    ``path`` names the file, ``reason`` the operating system's words.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write the report {path}: {reason}")
        self.path = path
        self.reason = reason


class PaginationError(AsyncsesError):
    """The service handed back a page token it had handed out before: the listing would loop."""


class OperationError(AsyncsesError):
    """An AWS operation failed for good.

    ``code`` is the AWS error code (or a local one such as ``EndpointConnectionError``),
    ``status`` the HTTP status if there was an answer, ``attempts`` how many times the call
    was sent, ``retry_after`` the server's ``Retry-After`` hint in seconds, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        code: str,
        key: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.code = code
        self.key = key
        self.status = status
        self.retry_after = retry_after
        self.attempts = 1

    def __str__(self) -> str:
        where = f" for {self.key!r}" if self.key else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.operation}{where} failed{tries}: {self.code}: {self.message}"

    def to_record(self) -> dict[str, object]:
        """The ``error`` member of a report record."""
        return {
            "code": self.code,
            "message": self.message,
            "operation": self.operation,
            "attempts": self.attempts,
        }


class RetryableError(OperationError):
    """A failure that may go away if the call is tried again."""


class ThrottledError(RetryableError):
    """The service asked us to slow down."""


class ServiceError(RetryableError):
    """The service answered with a 5xx status."""


class EndpointError(RetryableError):
    """The endpoint could not be reached, or did not answer in time."""


class NotServiceError(OperationError):
    """The endpoint answered, but not as the service does (an HTML page, a bare 404).

    Usually a wrong endpoint URL: a web server, a proxy, or a path that is not the API's.
    """


class NotFoundError(OperationError):
    """The item does not exist (any more)."""


class AlreadyExistsError(OperationError):
    """The item to create exists already."""


class AccessError(OperationError):
    """The credentials were rejected or lack permission."""
