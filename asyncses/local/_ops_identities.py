"""Email identity operations, and the identity state helpers seeding shares."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import TYPE_CHECKING, Any

from ._call import Call, operation, resource_arn
from ._constants import (
    BEHAVIORS_ON_MX_FAILURE,
    DKIM_SIGNING_KEY_LENGTHS,
    DKIM_SIGNING_ORIGINS,
)
from ._util import (
    already_exists,
    bad_request,
    check_bool,
    check_enum,
    check_str,
    check_tags,
    drop_none,
    epoch,
    limit_exceeded,
    not_found,
    page_size,
    paginate,
)

if TYPE_CHECKING:
    from moto.ses.models import EmailIdentity, SESBackend

# SES v1 (whose backend moto's v2 reuses) spells BehaviorOnMxFailure differently.
MX_BEHAVIOR_V1 = {"USE_DEFAULT_VALUE": "UseDefaultValue", "REJECT_MESSAGE": "RejectMessage"}
MX_BEHAVIOR_V2 = {v1: v2 for v2, v1 in MX_BEHAVIOR_V1.items()}
_POLICY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_POLICIES = 20
_MAX_POLICY_BYTES = 4096


# --------------------------------------------------------------------------
# State helpers (also used by seeding)
# --------------------------------------------------------------------------


def dkim_tokens(name: str) -> list[str]:
    """Three deterministic Easy DKIM CNAME tokens for a domain identity."""
    return [hashlib.sha1(f"{name}/{n}".encode()).hexdigest()[:32] for n in range(3)]


def ensure_identity(core: SESBackend, name: str) -> EmailIdentity:
    """The identity ``name``, created verified (SUCCESS, verified for sending) if missing."""
    identity = core.email_identities.get(name)
    if identity is None:
        identity = core.create_email_identity_v2(name, None, None, None)
        set_verification(identity, "SUCCESS")
    return identity


def set_verification(identity: EmailIdentity, status: str) -> None:
    """Set VerificationStatus and the VerifiedForSendingStatus that follows from it."""
    identity.verification_status = status
    identity.verified_for_sending_status = status == "SUCCESS"


def set_dkim(
    core: SESBackend, identity: EmailIdentity, status: str | None, signing: bool | None
) -> None:
    """Set the DKIM status and/or SigningEnabled; domains get Easy DKIM tokens once set up."""
    attrs = identity.dkim_attributes
    if signing is not None:
        attrs["SigningEnabled"] = signing
    if status is not None:
        attrs["Status"] = status
        if identity.identity_type == "DOMAIN" and status != "NOT_STARTED":
            tokens = attrs.get("Tokens") or dkim_tokens(identity.email_identity)
            attrs["Tokens"] = tokens
            attrs.setdefault("SigningAttributesOrigin", "AWS_SES")
            if attrs["SigningAttributesOrigin"] != "EXTERNAL":
                attrs["NextSigningKeyLength"] = "RSA_2048_BIT"
                attrs["CurrentSigningKeyLength"] = "RSA_2048_BIT"
            core.dkim_tokens[identity.email_identity] = tokens


def set_mail_from(
    core: SESBackend, name: str, domain: str | None, status: str | None, behavior: str | None
) -> None:
    """Set or clear (``domain == ""``) an identity's MAIL FROM attributes.

    Stored in ``core.identity_mail_from_domains`` (where moto's SES v1 API keeps
    them) with an extra ``mail_from_domain_status`` key; a new domain's status is
    SUCCESS unless ``status`` says otherwise.
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
        record["behavior_on_mx_failure"] = MX_BEHAVIOR_V1[behavior]
    core.identity_mail_from_domains[name] = record


def identity_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """The ARN of an email identity: ``arn:aws:ses:{region}:{account}:identity/{name}``."""
    return resource_arn(partition, region, account_id, "identity", name)


def remove_identity(core: SESBackend, name: str, arn: str) -> bool:
    """Delete an identity and everything stored about it; False if it did not exist."""
    if core.email_identities.pop(name, None) is None:
        return False
    core.identity_mail_from_domains.pop(name, None)
    core.dkim_tokens.pop(name, None)
    core.tagger.delete_all_tags_for_resource(arn)
    core.tagger.delete_all_tags_for_resource(arn.replace(":identity/", ":email-identity/"))
    return True


def dkim_body(identity: EmailIdentity) -> dict[str, Any]:
    """The ``DkimAttributes`` shape of an identity."""
    attrs = drop_none(dict(identity.dkim_attributes))
    if "LastKeyGenerationTimestamp" in attrs:
        attrs["LastKeyGenerationTimestamp"] = epoch(attrs["LastKeyGenerationTimestamp"])
    return attrs


def identity_body(core: SESBackend, identity: EmailIdentity, arn: str) -> dict[str, Any]:
    """The GetEmailIdentity answer built from the stored identity state."""
    name = identity.email_identity
    body: dict[str, Any] = {
        "IdentityType": identity.identity_type,
        "FeedbackForwardingStatus": identity.feedback_forwarding_status,
        "VerifiedForSendingStatus": identity.verified_for_sending_status,
        "DkimAttributes": dkim_body(identity),
        "Policies": dict(identity.policies),
        "Tags": core.tagger.list_tags_for_resource(arn).get("Tags", []),
        "ConfigurationSetName": identity.configuration_set_name,
        "VerificationStatus": identity.verification_status,
    }
    mail_from = core.identity_mail_from_domains.get(name) or {}
    if mail_from.get("mail_from_domain"):
        behavior = mail_from.get("behavior_on_mx_failure") or "UseDefaultValue"
        body["MailFromAttributes"] = {
            "MailFromDomain": mail_from["mail_from_domain"],
            "MailFromDomainStatus": mail_from.get("mail_from_domain_status", "SUCCESS"),
            "BehaviorOnMxFailure": MX_BEHAVIOR_V2.get(behavior, behavior),
        }
    return drop_none(body)


def apply_dkim_signing(
    core: SESBackend, identity: EmailIdentity, origin: Any, signing_attributes: Any
) -> None:
    """Configure Easy DKIM, DEED or BYODKIM (``EXTERNAL``) on a domain identity.

    Easy DKIM or DEED with the same origin as before keeps the tokens and status
    (only NextSigningKeyLength changes); any other change starts over with new
    tokens and status PENDING.  An identity without DKIM gets signing enabled.
    """
    origin = check_enum(origin, DKIM_SIGNING_ORIGINS, "SigningAttributesOrigin")
    if identity.identity_type != "DOMAIN":
        raise bad_request("DKIM signing attributes can only be set for a domain identity")
    attrs_in = signing_attributes if signing_attributes is not None else {}
    if not isinstance(attrs_in, dict):
        raise bad_request("SigningAttributes must be an object")
    key_length = attrs_in.get("NextSigningKeyLength")
    if key_length is not None:
        check_enum(key_length, DKIM_SIGNING_KEY_LENGTHS, "NextSigningKeyLength")
    dkim = identity.dkim_attributes
    name = identity.email_identity
    was_unset = dkim.get("Status", "NOT_STARTED") == "NOT_STARTED"
    if origin == "EXTERNAL":
        selector = check_str(
            attrs_in.get("DomainSigningSelector"), "DomainSigningSelector", max_length=63
        )
        check_str(
            attrs_in.get("DomainSigningPrivateKey"), "DomainSigningPrivateKey", max_length=20480
        )
        dkim["Tokens"] = [selector]
        dkim["Status"] = "PENDING"
        dkim.pop("NextSigningKeyLength", None)
        dkim.pop("CurrentSigningKeyLength", None)
        dkim["LastKeyGenerationTimestamp"] = time.time()
    elif dkim.get("SigningAttributesOrigin") == origin and dkim.get("Tokens") and not was_unset:
        if key_length is not None:
            dkim["NextSigningKeyLength"] = key_length
    else:
        dkim["Tokens"] = dkim_tokens(name)
        dkim["Status"] = "PENDING"
        dkim["NextSigningKeyLength"] = key_length or "RSA_2048_BIT"
        dkim["CurrentSigningKeyLength"] = key_length or "RSA_2048_BIT"
        dkim["LastKeyGenerationTimestamp"] = time.time()
    dkim["SigningAttributesOrigin"] = origin
    if was_unset:
        dkim["SigningEnabled"] = True
    core.dkim_tokens[name] = list(dkim["Tokens"])


def _identity(call: Call, name: str) -> EmailIdentity:
    """An identity of the request's account and region, or NotFoundException."""
    identity = call.core.email_identities.get(name)
    if identity is None:
        raise not_found(f"Email identity {name} does not exist.")
    return identity


# --------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------


@operation("ListEmailIdentities")
def list_email_identities(call: Call) -> dict[str, Any]:
    """ListEmailIdentities in creation order; PageSize 1-1000."""
    size = page_size(call.query("PageSize"))
    identities = list(call.core.email_identities.values())
    page, token = paginate(identities, "ListEmailIdentities", call.query("NextToken"), size)
    return drop_none(
        {
            "EmailIdentities": [
                {
                    "IdentityType": identity.identity_type,
                    "IdentityName": identity.email_identity,
                    "SendingEnabled": identity.sending_enabled,
                    "VerificationStatus": identity.verification_status,
                }
                for identity in page
            ],
            "NextToken": token,
        }
    )


@operation("GetEmailIdentity")
def get_email_identity(call: Call) -> dict[str, Any]:
    """GetEmailIdentity with DKIM, MAIL FROM, policies, tags and configuration set."""
    name = call.uri("EmailIdentity")
    return identity_body(call.core, _identity(call, name), call.arn("identity", name))


@operation("CreateEmailIdentity")
def create_email_identity(call: Call) -> dict[str, Any]:
    """CreateEmailIdentity: a PENDING identity; domains start Easy DKIM (or BYODKIM)."""
    params = call.body()
    name = check_str(params.get("EmailIdentity"), "EmailIdentity", max_length=320)
    core = call.core
    if name in core.email_identities:
        raise already_exists(f"Email identity {name} already exists.")
    tags = check_tags(params.get("Tags"))
    config_set = params.get("ConfigurationSetName")
    if config_set is not None:
        check_str(config_set, "ConfigurationSetName")
        if config_set not in core.config_sets:
            raise not_found(f"Configuration set {config_set} does not exist.")
    signing = params.get("DkimSigningAttributes")
    is_domain = "@" not in name
    if signing is not None and not is_domain:
        raise bad_request("DkimSigningAttributes can only be given for a domain identity")
    identity = core.create_email_identity_v2(name, None, None, config_set)
    try:
        set_verification(identity, "PENDING")
        if is_domain:
            if signing is None:
                apply_dkim_signing(core, identity, "AWS_SES", None)
            else:
                if not isinstance(signing, dict):
                    raise bad_request("DkimSigningAttributes must be an object")
                origin = signing.get("DomainSigningAttributesOrigin") or (
                    "EXTERNAL" if signing.get("DomainSigningPrivateKey") else "AWS_SES"
                )
                apply_dkim_signing(core, identity, origin, signing)
    except Exception:
        core.email_identities.pop(name, None)
        raise
    if tags:
        core.tagger.tag_resource(call.arn("identity", name), tags)
    return {
        "IdentityType": identity.identity_type,
        "VerifiedForSendingStatus": identity.verified_for_sending_status,
        "DkimAttributes": dkim_body(identity),
    }


@operation("DeleteEmailIdentity")
def delete_email_identity(call: Call) -> dict[str, Any]:
    """DeleteEmailIdentity: removes the identity, its MAIL FROM, DKIM and tag state."""
    name = call.uri("EmailIdentity")
    if not remove_identity(call.core, name, call.arn("identity", name)):
        raise not_found(f"Email identity {name} does not exist.")
    return {}


@operation("PutEmailIdentityMailFromAttributes")
def put_email_identity_mail_from_attributes(call: Call) -> dict[str, Any]:
    """Set (status PENDING when the domain changes) or clear the custom MAIL FROM domain."""
    name = call.uri("EmailIdentity")
    identity = _identity(call, name)
    params = call.body()
    domain = params.get("MailFromDomain")
    behavior = params.get("BehaviorOnMxFailure") or "USE_DEFAULT_VALUE"
    check_enum(behavior, BEHAVIORS_ON_MX_FAILURE, "BehaviorOnMxFailure")
    core = call.core
    if not domain:
        set_mail_from(core, name, "", None, None)
        return {}
    check_str(domain, "MailFromDomain", max_length=253)
    parent = name.split("@", 1)[1] if identity.identity_type == "EMAIL_ADDRESS" else name
    if not domain.lower().endswith("." + parent.lower()):
        raise bad_request(f"The MAIL FROM domain must be a subdomain of {parent}")
    current = core.identity_mail_from_domains.get(name) or {}
    status = None if current.get("mail_from_domain") == domain else "PENDING"
    set_mail_from(core, name, domain, status, behavior)
    return {}


@operation("PutEmailIdentityDkimSigningAttributes")
def put_email_identity_dkim_signing_attributes(call: Call) -> dict[str, Any]:
    """Switch a domain between Easy DKIM, DEED and BYODKIM; answers DkimStatus/DkimTokens."""
    name = call.uri("EmailIdentity")
    identity = _identity(call, name)
    params = call.body()
    apply_dkim_signing(
        call.core, identity, params.get("SigningAttributesOrigin"), params.get("SigningAttributes")
    )
    dkim = identity.dkim_attributes
    return {"DkimStatus": dkim["Status"], "DkimTokens": list(dkim.get("Tokens") or [])}


@operation("PutEmailIdentityDkimAttributes")
def put_email_identity_dkim_attributes(call: Call) -> dict[str, Any]:
    """Enable or disable DKIM signing (SigningEnabled, default false)."""
    identity = _identity(call, call.uri("EmailIdentity"))
    enabled = call.body().get("SigningEnabled", False)
    identity.dkim_attributes["SigningEnabled"] = check_bool(enabled, "SigningEnabled")
    return {}


@operation("PutEmailIdentityConfigurationSetAttributes")
def put_email_identity_configuration_set_attributes(call: Call) -> dict[str, Any]:
    """Set (or, without ConfigurationSetName, remove) the identity's default configuration set."""
    identity = _identity(call, call.uri("EmailIdentity"))
    config_set = call.body().get("ConfigurationSetName")
    if config_set:
        check_str(config_set, "ConfigurationSetName")
        if config_set not in call.core.config_sets:
            raise not_found(f"Configuration set {config_set} does not exist.")
    identity.configuration_set_name = config_set or None
    return {}


@operation("PutEmailIdentityFeedbackAttributes")
def put_email_identity_feedback_attributes(call: Call) -> dict[str, Any]:
    """Set feedback forwarding (EmailForwardingEnabled, default false)."""
    identity = _identity(call, call.uri("EmailIdentity"))
    enabled = call.body().get("EmailForwardingEnabled", False)
    identity.feedback_forwarding_status = check_bool(enabled, "EmailForwardingEnabled")
    return {}


@operation("GetEmailIdentityPolicies")
def get_email_identity_policies(call: Call) -> dict[str, Any]:
    """GetEmailIdentityPolicies: policy name -> policy document."""
    return {"Policies": dict(_identity(call, call.uri("EmailIdentity")).policies)}


def _policy_document(call: Call) -> str:
    """The validated Policy of a Create/UpdateEmailIdentityPolicy body."""
    policy = check_str(call.body().get("Policy"), "Policy")
    if len(policy.encode("utf-8")) > _MAX_POLICY_BYTES:
        raise bad_request("The policy cannot exceed 4 KB")
    try:
        document = json.loads(policy)
    except ValueError as exc:
        raise bad_request("The policy is not valid JSON") from exc
    if not isinstance(document, dict):
        raise bad_request("The policy must be a JSON object")
    return policy


def _policy_name(call: Call) -> str:
    """The validated PolicyName URI label."""
    name = call.uri("PolicyName")
    if not _POLICY_NAME.match(name):
        raise bad_request(
            "The policy name can have at most 64 letters, digits, dashes and underscores"
        )
    return name


@operation("CreateEmailIdentityPolicy")
def create_email_identity_policy(call: Call) -> dict[str, Any]:
    """CreateEmailIdentityPolicy; AlreadyExists for a taken name, at most 20 per identity."""
    identity = _identity(call, call.uri("EmailIdentity"))
    name = _policy_name(call)
    policy = _policy_document(call)
    if name in identity.policies:
        raise already_exists(f"Policy {name} already exists.")
    if len(identity.policies) >= _MAX_POLICIES:
        raise limit_exceeded(f"An identity can have at most {_MAX_POLICIES} policies.")
    identity.policies[name] = policy
    return {}


@operation("UpdateEmailIdentityPolicy")
def update_email_identity_policy(call: Call) -> dict[str, Any]:
    """UpdateEmailIdentityPolicy; NotFound for an unknown policy."""
    identity = _identity(call, call.uri("EmailIdentity"))
    name = _policy_name(call)
    policy = _policy_document(call)
    if name not in identity.policies:
        raise not_found(f"Policy {name} does not exist.")
    identity.policies[name] = policy
    return {}


@operation("DeleteEmailIdentityPolicy")
def delete_email_identity_policy(call: Call) -> dict[str, Any]:
    """DeleteEmailIdentityPolicy; succeeds for an unknown policy name, as SES documents."""
    identity = _identity(call, call.uri("EmailIdentity"))
    identity.policies.pop(call.uri("PolicyName"), None)
    return {}
