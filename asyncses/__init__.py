"""asyncses: concurrent, throttle-safe audits of Amazon SES (API v2) accounts, as NDJSON.

::

    import anyio, asyncses

    async def main() -> None:
        async with asyncses.Client(regions=["eu-west-1"]) as client:
            await asyncses.write_ndjson(client.email_identities(), "identities.ndjson")

    anyio.run(main)
"""

from ._client import Client, RecordStream
from ._exceptions import (
    AccessError,
    AlreadyExistsError,
    AsyncsesError,
    ClientClosedError,
    EndpointError,
    NoCredentialsError,
    NotFoundError,
    OperationError,
    PaginationError,
    ReportError,
    RetryableError,
    ServiceError,
    ThrottledError,
    UsageError,
)
from ._findings import FINDINGS
from ._records import (
    DedicatedIpPoolRecord,
    EmailIdentityRecord,
    ErrorInfo,
    ImportJobRecord,
    ItemKey,
    record_key,
)
from ._report import WriteResult, write_ndjson
from ._retry import CallStats, RetryPolicy
from ._summary import Summary, summarize

__version__ = "0.1.0"

__all__ = [
    "FINDINGS",
    "AccessError",
    "AlreadyExistsError",
    "AsyncsesError",
    "CallStats",
    "Client",
    "ClientClosedError",
    "DedicatedIpPoolRecord",
    "EmailIdentityRecord",
    "EndpointError",
    "ErrorInfo",
    "ImportJobRecord",
    "ItemKey",
    "NoCredentialsError",
    "NotFoundError",
    "OperationError",
    "PaginationError",
    "RecordStream",
    "ReportError",
    "RetryPolicy",
    "RetryableError",
    "ServiceError",
    "Summary",
    "ThrottledError",
    "UsageError",
    "WriteResult",
    "__version__",
    "record_key",
    "summarize",
    "write_ndjson",
]
