"""SES v2 operation names (the API's own, as error records and logs show them), limits and
enums."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

SERVICE: Final = "sesv2"

# Reads
LIST_EMAIL_IDENTITIES: Final = "ListEmailIdentities"
GET_EMAIL_IDENTITY: Final = "GetEmailIdentity"
LIST_DEDICATED_IP_POOLS: Final = "ListDedicatedIpPools"
GET_DEDICATED_IP_POOL: Final = "GetDedicatedIpPool"
GET_DEDICATED_IPS: Final = "GetDedicatedIps"
GET_DEDICATED_IP: Final = "GetDedicatedIp"
LIST_IMPORT_JOBS: Final = "ListImportJobs"
GET_IMPORT_JOB: Final = "GetImportJob"
GET_ACCOUNT: Final = "GetAccount"
LIST_CONFIGURATION_SETS: Final = "ListConfigurationSets"
GET_CONFIGURATION_SET: Final = "GetConfigurationSet"
GET_CONFIGURATION_SET_EVENT_DESTINATIONS: Final = "GetConfigurationSetEventDestinations"
LIST_SUPPRESSED_DESTINATIONS: Final = "ListSuppressedDestinations"
GET_SUPPRESSED_DESTINATION: Final = "GetSuppressedDestination"
LIST_CONTACT_LISTS: Final = "ListContactLists"
GET_CONTACT_LIST: Final = "GetContactList"
LIST_CONTACTS: Final = "ListContacts"
LIST_EMAIL_TEMPLATES: Final = "ListEmailTemplates"
GET_EMAIL_TEMPLATE: Final = "GetEmailTemplate"
LIST_CUSTOM_VERIFICATION_EMAIL_TEMPLATES: Final = "ListCustomVerificationEmailTemplates"
GET_CUSTOM_VERIFICATION_EMAIL_TEMPLATE: Final = "GetCustomVerificationEmailTemplate"
# Writes
CREATE_DEDICATED_IP_POOL: Final = "CreateDedicatedIpPool"
PUT_EMAIL_IDENTITY_DKIM_ATTRIBUTES: Final = "PutEmailIdentityDkimAttributes"
PUT_EMAIL_IDENTITY_DKIM_SIGNING_ATTRIBUTES: Final = "PutEmailIdentityDkimSigningAttributes"
DELETE_EMAIL_IDENTITY_POLICY: Final = "DeleteEmailIdentityPolicy"
PUT_EMAIL_IDENTITY_CONFIGURATION_SET_ATTRIBUTES: Final = (
    "PutEmailIdentityConfigurationSetAttributes"
)
PUT_EMAIL_IDENTITY_FEEDBACK_ATTRIBUTES: Final = "PutEmailIdentityFeedbackAttributes"
PUT_EMAIL_IDENTITY_MAIL_FROM_ATTRIBUTES: Final = "PutEmailIdentityMailFromAttributes"
TAG_RESOURCE: Final = "TagResource"
UNTAG_RESOURCE: Final = "UntagResource"
DELETE_EMAIL_IDENTITY: Final = "DeleteEmailIdentity"
PUT_DEDICATED_IP_IN_POOL: Final = "PutDedicatedIpInPool"
PUT_DEDICATED_IP_WARMUP_ATTRIBUTES: Final = "PutDedicatedIpWarmupAttributes"
PUT_DEDICATED_IP_POOL_SCALING_ATTRIBUTES: Final = "PutDedicatedIpPoolScalingAttributes"
# Other services
GET_CALLER_IDENTITY: Final = "GetCallerIdentity"
LIST_ACCOUNTS: Final = "ListAccounts"
ASSUME_ROLE: Final = "AssumeRole"

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def method_name(operation: str) -> str:
    """The botocore client method of an API operation (``GetEmailIdentity`` ->
    ``get_email_identity``)."""
    return _CAMEL.sub("_", operation).lower()


#: The largest PageSize SES accepts on its list operations (ListContacts and
#: ListSuppressedDestinations too).
MAX_PAGE_SIZE: Final = 1000
#: Operations whose PageSize is capped lower by the API.
PAGE_SIZE_CAPS: Final[Mapping[str, int]] = {
    LIST_EMAIL_TEMPLATES: 100,
    LIST_CUSTOM_VERIFICATION_EMAIL_TEMPLATES: 50,
}

SCALING_MODES: Final = ("STANDARD", "MANAGED")
IMPORT_DESTINATION_TYPES: Final = ("SUPPRESSION_LIST", "CONTACT_LIST")
SUPPRESSION_REASONS: Final = ("BOUNCE", "COMPLAINT")
