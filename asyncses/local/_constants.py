"""Account ids and the SES v2 enums the local endpoint uses (no moto import)."""

from __future__ import annotations

DEFAULT_ACCOUNT = "123456789012"
"""moto's default account id: requests signed with unknown access keys land here."""

MOTO_MISSING = "the local SES endpoint needs moto: pip install 'asyncses[demo]'"

VERIFICATION_STATUSES = ("SUCCESS", "PENDING", "FAILED", "TEMPORARY_FAILURE", "NOT_STARTED")
"""SES v2 ``VerificationStatus`` values."""
DKIM_STATUSES = VERIFICATION_STATUSES
"""SES v2 ``DkimStatus`` values."""
MAIL_FROM_STATUSES = ("SUCCESS", "PENDING", "FAILED", "TEMPORARY_FAILURE")
"""SES v2 ``MailFromDomainStatus`` values."""
BEHAVIORS_ON_MX_FAILURE = ("USE_DEFAULT_VALUE", "REJECT_MESSAGE")
"""SES v2 ``BehaviorOnMxFailure`` values."""
IMPORT_JOB_STATUSES = ("CREATED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED")
"""SES v2 ``JobStatus`` values."""
WARMUP_STATUSES = ("IN_PROGRESS", "DONE", "NOT_APPLICABLE")
"""SES v2 ``WarmupStatus`` values."""
SCALING_MODES = ("STANDARD", "MANAGED")
"""SES v2 ``ScalingMode`` values."""
SUPPRESSION_REASONS = ("BOUNCE", "COMPLAINT")
"""SES v2 ``SuppressionListReason`` values."""
ENFORCEMENT_STATUSES = ("HEALTHY", "PROBATION", "SHUTDOWN")
"""Values of GetAccount's ``EnforcementStatus``."""
TLS_POLICIES = ("REQUIRE", "OPTIONAL")
"""SES v2 ``TlsPolicy`` values."""
HTTPS_POLICIES = ("REQUIRE", "REQUIRE_OPEN_ONLY", "OPTIONAL")
"""SES v2 ``HttpsPolicy`` values."""
EVENT_TYPES = (
    "SEND",
    "REJECT",
    "BOUNCE",
    "COMPLAINT",
    "DELIVERY",
    "OPEN",
    "CLICK",
    "RENDERING_FAILURE",
    "DELIVERY_DELAY",
    "SUBSCRIPTION",
)
"""SES v2 ``EventType`` values."""
SUBSCRIPTION_STATUSES = ("OPT_IN", "OPT_OUT")
"""SES v2 ``SubscriptionStatus`` values."""
DKIM_SIGNING_KEY_LENGTHS = ("RSA_1024_BIT", "RSA_2048_BIT")
"""SES v2 ``DkimSigningKeyLength`` values."""
DKIM_SIGNING_ORIGINS = (
    "AWS_SES",
    "EXTERNAL",
    "AWS_SES_AF_SOUTH_1",
    "AWS_SES_EU_NORTH_1",
    "AWS_SES_AP_SOUTH_1",
    "AWS_SES_EU_WEST_3",
    "AWS_SES_EU_WEST_2",
    "AWS_SES_EU_SOUTH_1",
    "AWS_SES_EU_WEST_1",
    "AWS_SES_AP_NORTHEAST_3",
    "AWS_SES_AP_NORTHEAST_2",
    "AWS_SES_ME_SOUTH_1",
    "AWS_SES_AP_NORTHEAST_1",
    "AWS_SES_IL_CENTRAL_1",
    "AWS_SES_SA_EAST_1",
    "AWS_SES_CA_CENTRAL_1",
    "AWS_SES_AP_SOUTHEAST_1",
    "AWS_SES_AP_SOUTHEAST_2",
    "AWS_SES_AP_SOUTHEAST_3",
    "AWS_SES_EU_CENTRAL_1",
    "AWS_SES_US_EAST_1",
    "AWS_SES_US_EAST_2",
    "AWS_SES_US_WEST_1",
    "AWS_SES_US_WEST_2",
    "AWS_SES_ME_CENTRAL_1",
    "AWS_SES_AP_SOUTH_2",
    "AWS_SES_EU_CENTRAL_2",
)
"""SES v2 ``DkimSigningAttributesOrigin`` values."""
