"""An embedded local Amazon SES v2 endpoint on loopback, for demos and tests.

::

    import boto3
    from asyncses.local import LocalSES

    with LocalSES() as ses:
        ses.seed_identities("us-east-1", 500)
        client = boto3.client(
            "sesv2", endpoint_url=ses.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        client.list_email_identities(PageSize=100)

:class:`LocalSES` runs moto (``pip install 'asyncses[demo]'``) in server mode on
a free local port, with SES v2 operations fixed or added so that request and
answer shapes follow botocore's model: paginated lists with validated PageSize
and opaque NextTokens, SES error codes and statuses, epoch timestamps, account
settings, configuration sets and event destinations, the suppression list,
contact lists, templates, dedicated IPs, import jobs and tags.  The same port
serves STS and Organizations for organization-wide audits.

Importing this package does not import moto; starting an endpoint does not
change any moto module, class or module-level registry (the fixes live in
subclasses used by this endpoint's own WSGI app).

Run ``python -m asyncses.local --help`` for a standalone endpoint.
"""

from ._constants import (
    BEHAVIORS_ON_MX_FAILURE,
    DEFAULT_ACCOUNT,
    DKIM_SIGNING_ORIGINS,
    DKIM_STATUSES,
    ENFORCEMENT_STATUSES,
    EVENT_TYPES,
    IMPORT_JOB_STATUSES,
    MAIL_FROM_STATUSES,
    SCALING_MODES,
    SUBSCRIPTION_STATUSES,
    SUPPRESSION_REASONS,
    TLS_POLICIES,
    VERIFICATION_STATUSES,
    WARMUP_STATUSES,
)
from ._local import LocalSES, OrgInfo

__all__ = [
    "BEHAVIORS_ON_MX_FAILURE",
    "DEFAULT_ACCOUNT",
    "DKIM_SIGNING_ORIGINS",
    "DKIM_STATUSES",
    "ENFORCEMENT_STATUSES",
    "EVENT_TYPES",
    "IMPORT_JOB_STATUSES",
    "MAIL_FROM_STATUSES",
    "SCALING_MODES",
    "SUBSCRIPTION_STATUSES",
    "SUPPRESSION_REASONS",
    "TLS_POLICIES",
    "VERIFICATION_STATUSES",
    "WARMUP_STATUSES",
    "LocalSES",
    "OrgInfo",
]
