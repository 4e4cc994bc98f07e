"""asyncses: concurrent, quota-paced audits of Amazon SES (API v2) accounts, as NDJSON.

::

    import anyio, asyncses

    async def main() -> None:
        async with asyncses.Client(regions=["eu-west-1"]) as client:
            await asyncses.write_ndjson(client.email_identities(), "identities.ndjson")

    anyio.run(main)

The package is in layers, imports flowing one way: ``cli`` (the command line) -> ``client``
(this facade) -> ``reports`` (one module per SES resource) -> ``ses`` (the SES adapter) ->
``engine`` (pacing, retries, pools, NDJSON; no SES names). ``asyncses.local`` (an embedded
SES endpoint for demos and tests) stands apart. See ARCHITECTURE.md.
"""

import inspect

from ._version import __version__
from .changes.actions import Change
from .changes.apply import OutcomeRecord
from .changes.plan import plan
from .client import Client, RecordStream
from .engine.errors import (
    AccessError,
    AlreadyExistsError,
    AsyncsesError,
    ClientClosedError,
    EndpointError,
    NoCredentialsError,
    NotFoundError,
    NotServiceError,
    OperationError,
    PaginationError,
    ReportError,
    ReportWriteError,
    RetryableError,
    ServiceError,
    ThrottledError,
    UsageError,
)
from .engine.retry import CallStats, RetryPolicy
from .engine.sink import WriteResult, write_ndjson
from .reports.files import read_report
from .reports.findings import FINDINGS, Finding
from .reports.records import (
    ConfigurationSetRecord,
    ContactListRecord,
    ContactRecord,
    CustomVerificationTemplateRecord,
    DedicatedIpPoolRecord,
    EmailIdentityRecord,
    EmailTemplateRecord,
    ErrorInfo,
    ImportJobRecord,
    ItemKey,
    ListingErrorRecord,
    ProblemRecord,
    SesAccountRecord,
    SuppressedDestinationRecord,
    UnitErrorRecord,
    record_key,
)
from .reports.runner import Resume
from .reports.summary import Summary, summarize
from .ses.unit import UnreachableError
from .settings import Settings

__all__ = [
    "FINDINGS",
    "AccessError",
    "AlreadyExistsError",
    "AsyncsesError",
    "CallStats",
    "Change",
    "Client",
    "ClientClosedError",
    "ConfigurationSetRecord",
    "ContactListRecord",
    "ContactRecord",
    "CustomVerificationTemplateRecord",
    "DedicatedIpPoolRecord",
    "EmailIdentityRecord",
    "EmailTemplateRecord",
    "EndpointError",
    "ErrorInfo",
    "Finding",
    "ImportJobRecord",
    "ItemKey",
    "ListingErrorRecord",
    "NoCredentialsError",
    "NotFoundError",
    "NotServiceError",
    "OperationError",
    "OutcomeRecord",
    "PaginationError",
    "ProblemRecord",
    "RecordStream",
    "ReportError",
    "ReportWriteError",
    "Resume",
    "RetryPolicy",
    "RetryableError",
    "ServiceError",
    "SesAccountRecord",
    "Settings",
    "Summary",
    "SuppressedDestinationRecord",
    "ThrottledError",
    "UnitErrorRecord",
    "UnreachableError",
    "UsageError",
    "WriteResult",
    "__version__",
    "plan",
    "read_report",
    "record_key",
    "summarize",
    "write_ndjson",
]

# Exported names show as asyncses.X (in reprs, tracebacks and docs), as httpx does.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) or inspect.isfunction(_value):
        _value.__module__ = "asyncses"
del _name, _value
