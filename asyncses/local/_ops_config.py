"""Account, configuration set, suppression list and template operations."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from typing import TYPE_CHECKING, Any, cast

from ._call import Call, operation
from ._constants import (
    EVENT_TYPES,
    HTTPS_POLICIES,
    SUPPRESSION_REASONS,
    TLS_POLICIES,
)
from ._state import CustomVerificationTemplate
from ._util import (
    SESError,
    already_exists,
    bad_request,
    check_bool,
    check_enum,
    check_str,
    check_tags,
    decode_token,
    drop_none,
    encode_token,
    epoch,
    limit_exceeded,
    not_found,
    page_size,
    paginate,
    parse_time,
)

if TYPE_CHECKING:
    from moto.ses.models import ConfigurationSet, SESBackend

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_EVENT_DESTINATIONS = 10
_MAX_CUSTOM_VERIFICATION_TEMPLATES = 50
_DESTINATION_KINDS = {
    "KinesisFirehoseDestination": ("IamRoleArn", "DeliveryStreamArn"),
    "CloudWatchDestination": ("DimensionConfigurations",),
    "SnsDestination": ("TopicArn",),
    "EventBridgeDestination": ("EventBusArn",),
    "PinpointDestination": (),
}
_FEATURE_STATUSES = ("ENABLED", "DISABLED")


def _check_name(value: Any, what: str) -> str:
    """A resource name: 1-64 letters, digits, dashes and underscores."""
    name = check_str(value, what)
    if not _NAME.match(name):
        raise bad_request(f"{what} can have at most 64 letters, digits, dashes and underscores")
    return name


# --------------------------------------------------------------------------
# Account
# --------------------------------------------------------------------------


@operation("GetAccount")
def get_account(call: Call) -> dict[str, Any]:
    """GetAccount from :meth:`LocalSES.set_account` (default: a healthy production account)."""
    return call.extras.account.to_dict()


# --------------------------------------------------------------------------
# Configuration sets
# --------------------------------------------------------------------------


def _options(params: dict[str, Any], call: Call) -> dict[str, dict[str, Any] | None]:
    """The validated option objects of a CreateConfigurationSet body (None = not given)."""
    out: dict[str, dict[str, Any] | None] = {}
    tracking = params.get("TrackingOptions")
    if tracking is not None:
        if not isinstance(tracking, dict):
            raise bad_request("TrackingOptions must be an object")
        check_str(tracking.get("CustomRedirectDomain"), "TrackingOptions.CustomRedirectDomain")
        if tracking.get("HttpsPolicy") is not None:
            check_enum(tracking["HttpsPolicy"], HTTPS_POLICIES, "HttpsPolicy")
    out["tracking"] = tracking
    delivery = params.get("DeliveryOptions")
    if delivery is not None:
        if not isinstance(delivery, dict):
            raise bad_request("DeliveryOptions must be an object")
        if delivery.get("TlsPolicy") is not None:
            check_enum(delivery["TlsPolicy"], TLS_POLICIES, "TlsPolicy")
        pool = delivery.get("SendingPoolName")
        if pool is not None and pool not in call.core.dedicated_ip_pools:
            raise not_found(f"Dedicated IP pool {pool} does not exist.")
        seconds = delivery.get("MaxDeliverySeconds")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int) or not 300 <= seconds <= 50400
        ):
            raise bad_request("MaxDeliverySeconds must be from 300 to 50400")
    out["delivery"] = delivery
    reputation = params.get("ReputationOptions")
    if reputation is not None:
        if not isinstance(reputation, dict):
            raise bad_request("ReputationOptions must be an object")
        reputation = dict(reputation)
        if "ReputationMetricsEnabled" in reputation:
            check_bool(reputation["ReputationMetricsEnabled"], "ReputationMetricsEnabled")
        if reputation.get("LastFreshStart") is not None:
            try:
                reputation["LastFreshStart"] = epoch(reputation["LastFreshStart"])
            except (TypeError, ValueError) as exc:
                raise bad_request("Invalid LastFreshStart") from exc
    out["reputation"] = reputation
    sending = params.get("SendingOptions")
    if sending is not None:
        if not isinstance(sending, dict):
            raise bad_request("SendingOptions must be an object")
        check_bool(sending.get("SendingEnabled", True), "SendingEnabled")
    out["sending"] = sending
    suppression = params.get("SuppressionOptions")
    if suppression is not None:
        if not isinstance(suppression, dict):
            raise bad_request("SuppressionOptions must be an object")
        reasons = suppression.get("SuppressedReasons", [])
        if not isinstance(reasons, list):
            raise bad_request("SuppressedReasons must be a list")
        for reason in reasons:
            check_enum(reason, SUPPRESSION_REASONS, "SuppressedReasons")
        suppression = {"SuppressedReasons": list(reasons)}
    out["suppression"] = suppression
    vdm = params.get("VdmOptions")
    if vdm is not None:
        if not isinstance(vdm, dict):
            raise bad_request("VdmOptions must be an object")
        for part, key in (
            ("DashboardOptions", "EngagementMetrics"),
            ("GuardianOptions", "OptimizedSharedDelivery"),
        ):
            value = (vdm.get(part) or {}).get(key)
            if value is not None:
                check_enum(value, _FEATURE_STATUSES, f"{part}.{key}")
    out["vdm"] = vdm
    archiving = params.get("ArchivingOptions")
    if archiving is not None and not isinstance(archiving, dict):
        raise bad_request("ArchivingOptions must be an object")
    out["archiving"] = archiving
    return out


def store_configuration_set(
    core: SESBackend,
    arn: str,
    name: str,
    options: dict[str, dict[str, Any] | None],
    tags: list[dict[str, str]],
) -> ConfigurationSet:
    """Create configuration set ``name`` in moto's SES backend and tag its ARN."""
    from moto.ses.models import ConfigurationSet

    sending = options.get("sending") or {}
    config_set = ConfigurationSet(
        configuration_set_name=name,
        tracking_options=options.get("tracking"),
        delivery_options=options.get("delivery"),
        reputation_options=options.get("reputation"),
        sending_options={"SendingEnabled": bool(sending.get("SendingEnabled", True))},
        tags=tags,
        suppression_options=options.get("suppression"),
        vdm_options=options.get("vdm"),
    )
    vars(config_set)["archiving_options"] = options.get("archiving")
    core.config_sets[name] = config_set
    core.tagger.delete_all_tags_for_resource(arn)
    if tags:
        core.tagger.tag_resource(arn, tags)
    return config_set


def configuration_set_body(
    core: SESBackend, config_set: ConfigurationSet, arn: str
) -> dict[str, Any]:
    """The GetConfigurationSet answer, with SES's defaults for options never set."""
    sending = cast(dict[str, Any], config_set.enabled or {})
    body: dict[str, Any] = {
        "ConfigurationSetName": config_set.configuration_set_name,
        "DeliveryOptions": {"TlsPolicy": "OPTIONAL", **(config_set.delivery_options or {})},
        "ReputationOptions": {
            "ReputationMetricsEnabled": False,
            **(config_set.reputation_options or {}),
        },
        "SendingOptions": {"SendingEnabled": bool(sending.get("SendingEnabled", True))},
        "Tags": core.tagger.list_tags_for_resource(arn).get("Tags", []),
    }
    if config_set.tracking_options:
        body["TrackingOptions"] = config_set.tracking_options
    if config_set.suppression_options:
        body["SuppressionOptions"] = config_set.suppression_options
    if config_set.vdm_options:
        body["VdmOptions"] = config_set.vdm_options
    archiving = vars(config_set).get("archiving_options")
    if archiving:
        body["ArchivingOptions"] = archiving
    return body


def _configuration_set(call: Call, name: str) -> ConfigurationSet:
    """A configuration set of this account and region, or NotFoundException."""
    config_set = call.core.config_sets.get(name)
    if config_set is None:
        raise not_found(f"Configuration set {name} does not exist.")
    return config_set


@operation("ListConfigurationSets")
def list_configuration_sets(call: Call) -> dict[str, Any]:
    """ListConfigurationSets in creation order; PageSize 1-1000."""
    size = page_size(call.query("PageSize"))
    names = list(call.core.config_sets)
    page, token = paginate(names, "ListConfigurationSets", call.query("NextToken"), size)
    return drop_none({"ConfigurationSets": page, "NextToken": token})


@operation("GetConfigurationSet")
def get_configuration_set(call: Call) -> dict[str, Any]:
    """GetConfigurationSet with delivery, reputation, sending, suppression options and tags."""
    name = call.uri("ConfigurationSetName")
    return configuration_set_body(
        call.core, _configuration_set(call, name), call.arn("configuration-set", name)
    )


@operation("CreateConfigurationSet")
def create_configuration_set(call: Call) -> dict[str, Any]:
    """CreateConfigurationSet; AlreadyExists for a taken name, NotFound for an unknown pool."""
    params = call.body()
    name = _check_name(params.get("ConfigurationSetName"), "ConfigurationSetName")
    if name in call.core.config_sets:
        raise already_exists(f"Configuration set {name} already exists.")
    tags = check_tags(params.get("Tags"))
    options = _options(params, call)
    store_configuration_set(call.core, call.arn("configuration-set", name), name, options, tags)
    return {}


@operation("DeleteConfigurationSet")
def delete_configuration_set(call: Call) -> dict[str, Any]:
    """DeleteConfigurationSet with its event destinations and tags."""
    name = call.uri("ConfigurationSetName")
    _configuration_set(call, name)
    del call.core.config_sets[name]
    call.extras.event_destinations.pop(name, None)
    call.core.tagger.delete_all_tags_for_resource(call.arn("configuration-set", name))
    return {}


def event_destination(name: str, definition: Any) -> dict[str, Any]:
    """A validated ``EventDestination`` from an ``EventDestinationDefinition``."""
    if not isinstance(definition, dict):
        raise bad_request("EventDestination must be an object")
    types = definition.get("MatchingEventTypes")
    if not isinstance(types, list) or not types:
        raise bad_request("MatchingEventTypes must list at least one event type")
    for kind in types:
        check_enum(kind, EVENT_TYPES, "MatchingEventTypes")
    kinds = [kind for kind in _DESTINATION_KINDS if definition.get(kind) is not None]
    if len(kinds) != 1:
        raise bad_request(f"Specify exactly one of {', '.join(_DESTINATION_KINDS)}")
    target = definition[kinds[0]]
    if not isinstance(target, dict):
        raise bad_request(f"{kinds[0]} must be an object")
    for member in _DESTINATION_KINDS[kinds[0]]:
        if not target.get(member):
            raise bad_request(f"{kinds[0]}.{member} is required")
    return {
        "Name": name,
        "Enabled": check_bool(definition.get("Enabled", False), "Enabled"),
        "MatchingEventTypes": list(dict.fromkeys(types)),
        kinds[0]: target,
    }


@operation("GetConfigurationSetEventDestinations")
def get_configuration_set_event_destinations(call: Call) -> dict[str, Any]:
    """The configuration set's event destinations in creation order."""
    name = call.uri("ConfigurationSetName")
    _configuration_set(call, name)
    found = call.extras.event_destinations.get(name, {})
    return {"EventDestinations": [dict(destination) for destination in found.values()]}


@operation("CreateConfigurationSetEventDestination")
def create_configuration_set_event_destination(call: Call) -> dict[str, Any]:
    """Add an event destination; AlreadyExists for a taken name, at most 10 per set."""
    name = call.uri("ConfigurationSetName")
    _configuration_set(call, name)
    params = call.body()
    dest_name = _check_name(params.get("EventDestinationName"), "EventDestinationName")
    destination = event_destination(dest_name, params.get("EventDestination"))
    with call.extras.lock:
        found = call.extras.event_destinations.setdefault(name, {})
        if dest_name in found:
            raise already_exists(f"Event destination {dest_name} already exists in {name}.")
        if len(found) >= _MAX_EVENT_DESTINATIONS:
            raise limit_exceeded(
                f"A configuration set can have at most {_MAX_EVENT_DESTINATIONS} "
                "event destinations."
            )
        found[dest_name] = destination
    return {}


@operation("UpdateConfigurationSetEventDestination")
def update_configuration_set_event_destination(call: Call) -> dict[str, Any]:
    """Replace an event destination's definition."""
    name = call.uri("ConfigurationSetName")
    _configuration_set(call, name)
    dest_name = call.uri("EventDestinationName")
    found = call.extras.event_destinations.get(name, {})
    if dest_name not in found:
        raise not_found(f"Event destination {dest_name} does not exist in {name}.")
    found[dest_name] = event_destination(dest_name, call.body().get("EventDestination"))
    return {}


@operation("DeleteConfigurationSetEventDestination")
def delete_configuration_set_event_destination(call: Call) -> dict[str, Any]:
    """Delete an event destination; NotFound for an unknown set or destination."""
    name = call.uri("ConfigurationSetName")
    _configuration_set(call, name)
    dest_name = call.uri("EventDestinationName")
    found = call.extras.event_destinations.get(name, {})
    if found.pop(dest_name, None) is None:
        raise not_found(f"Event destination {dest_name} does not exist in {name}.")
    return {}


# --------------------------------------------------------------------------
# Suppression list
# --------------------------------------------------------------------------


def _suppression_attributes(address: str) -> dict[str, str]:
    """Deterministic MessageId and FeedbackId for a suppressed address."""
    digest = hashlib.sha256(address.encode("utf-8")).hexdigest()
    return {
        "MessageId": f"0100{digest[:12]}-{digest[12:20]}-{digest[20:24]}-{digest[24:28]}"
        f"-{digest[28:32]}-{digest[32:44]}-000000",
        "FeedbackId": f"0100{digest[44:56]}-{digest[56:64]}-feedback-000000",
    }


@operation("ListSuppressedDestinations")
def list_suppressed_destinations(call: Call) -> dict[str, Any]:
    """Newest first; filters Reason (repeatable), StartDate, EndDate; PageSize 1-1000."""
    size = page_size(call.query("PageSize"))
    reasons = call.query_list("Reason")
    for reason in reasons:
        check_enum(reason, SUPPRESSION_REASONS, "Reason")
    start_raw, end_raw = call.query("StartDate"), call.query("EndDate")
    start = parse_time(start_raw, "StartDate") if start_raw else None
    end = parse_time(end_raw, "EndDate") if end_raw else None
    after = None
    token = call.query("NextToken")
    if token:
        position = decode_token(
            "ListSuppressedDestinations", token, error_code="InvalidNextTokenException"
        )
        if (
            not isinstance(position, list)
            or len(position) != 2
            or not isinstance(position[0], int | float)
            or not isinstance(position[1], str)
        ):
            raise SESError("InvalidNextTokenException", "The NextToken is invalid.")
        after = (float(position[0]), position[1])
    page, last = call.extras.suppressions.page(reasons or None, start, end, after, size)
    body: dict[str, Any] = {
        "SuppressedDestinationSummaries": [
            {"EmailAddress": address, "Reason": reason, "LastUpdateTime": when}
            for address, reason, when in page
        ]
    }
    if last is not None:
        body["NextToken"] = encode_token("ListSuppressedDestinations", list(last))
    return body


@operation("GetSuppressedDestination")
def get_suppressed_destination(call: Call) -> dict[str, Any]:
    """One suppressed address with its reason, time and attributes; NotFound if not listed."""
    address = call.uri("EmailAddress")
    found = call.extras.suppressions.get(address)
    if found is None:
        raise not_found(f"Email address {address} does not exist on your suppression list.")
    reason, when = found
    return {
        "SuppressedDestination": {
            "EmailAddress": address,
            "Reason": reason,
            "LastUpdateTime": when,
            "Attributes": _suppression_attributes(address),
        }
    }


@operation("PutSuppressedDestination")
def put_suppressed_destination(call: Call) -> dict[str, Any]:
    """Add (or update) an address on the suppression list, with LastUpdateTime now."""
    params = call.body()
    address = check_str(params.get("EmailAddress"), "EmailAddress", max_length=320)
    reason = check_enum(params.get("Reason"), SUPPRESSION_REASONS, "Reason")
    call.extras.suppressions.put(address, reason, round(time.time(), 3))
    return {}


@operation("DeleteSuppressedDestination")
def delete_suppressed_destination(call: Call) -> dict[str, Any]:
    """Remove an address from the suppression list; NotFound if it is not listed."""
    address = call.uri("EmailAddress")
    if not call.extras.suppressions.delete(address):
        raise not_found(f"Email address {address} does not exist on your suppression list.")
    return {}


# --------------------------------------------------------------------------
# Email templates (kept in moto's SES templates, so SES v1 sees them too)
# --------------------------------------------------------------------------


def store_email_template(
    core: SESBackend, name: str, subject: str | None, text: str | None, html: str | None
) -> None:
    """Store an email template the way moto's SES v1 does, with its creation time."""
    record: dict[str, Any] = {
        "template_name": name,
        "subject_part": subject or "",
        "text_part": text or "",
        "html_part": html or "",
        "Timestamp": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    core.templates[name] = record


def _template_content(raw: Any) -> tuple[str | None, str | None, str | None]:
    """Subject, Text and Html of a validated ``EmailTemplateContent``."""
    if not isinstance(raw, dict):
        raise bad_request("TemplateContent is required")
    parts = tuple(raw.get(key) for key in ("Subject", "Text", "Html"))
    for key, value in zip(("Subject", "Text", "Html"), parts, strict=True):
        if value is not None and not isinstance(value, str):
            raise bad_request(f"TemplateContent.{key} must be a string")
    if not any(parts):
        raise bad_request("TemplateContent needs a Subject, Text or Html part")
    return cast(tuple[str | None, str | None, str | None], parts)


def _email_template(call: Call, name: str) -> dict[str, Any]:
    """A stored email template, or NotFoundException."""
    template = call.core.templates.get(name)
    if template is None:
        raise not_found(f"Email template {name} does not exist.")
    return cast(dict[str, Any], template)


@operation("ListEmailTemplates")
def list_email_templates(call: Call) -> dict[str, Any]:
    """ListEmailTemplates in creation order; PageSize 1-100."""
    size = page_size(call.query("PageSize"), maximum=100)
    templates = [cast(dict[str, Any], t) for t in call.core.templates.values()]
    page, token = paginate(templates, "ListEmailTemplates", call.query("NextToken"), size)
    return drop_none(
        {
            "TemplatesMetadata": [
                drop_none(
                    {
                        "TemplateName": template["template_name"],
                        "CreatedTimestamp": epoch(template.get("Timestamp")),
                    }
                )
                for template in page
            ],
            "NextToken": token,
        }
    )


@operation("GetEmailTemplate")
def get_email_template(call: Call) -> dict[str, Any]:
    """GetEmailTemplate: name and Subject/Text/Html content."""
    name = call.uri("TemplateName")
    template = _email_template(call, name)
    content = {
        "Subject": template.get("subject_part") or None,
        "Text": template.get("text_part") or None,
        "Html": template.get("html_part") or None,
    }
    return {"TemplateName": name, "TemplateContent": drop_none(content)}


@operation("CreateEmailTemplate")
def create_email_template(call: Call) -> dict[str, Any]:
    """CreateEmailTemplate; AlreadyExists for a taken name."""
    params = call.body()
    name = _check_name(params.get("TemplateName"), "TemplateName")
    subject, text, html = _template_content(params.get("TemplateContent"))
    if name in call.core.templates:
        raise already_exists(f"Email template {name} already exists.")
    store_email_template(call.core, name, subject, text, html)
    return {}


@operation("UpdateEmailTemplate")
def update_email_template(call: Call) -> dict[str, Any]:
    """UpdateEmailTemplate (keeps the creation time); NotFound for an unknown template."""
    name = call.uri("TemplateName")
    template = _email_template(call, name)
    subject, text, html = _template_content(call.body().get("TemplateContent"))
    template.update(subject_part=subject or "", text_part=text or "", html_part=html or "")
    return {}


@operation("DeleteEmailTemplate")
def delete_email_template(call: Call) -> dict[str, Any]:
    """DeleteEmailTemplate; NotFound for an unknown template."""
    name = call.uri("TemplateName")
    _email_template(call, name)
    del call.core.templates[name]
    return {}


# --------------------------------------------------------------------------
# Custom verification email templates
# --------------------------------------------------------------------------

_CVET_FIELDS = (
    "FromEmailAddress",
    "TemplateSubject",
    "TemplateContent",
    "SuccessRedirectionURL",
    "FailureRedirectionURL",
)


def _custom_template_fields(params: dict[str, Any]) -> list[str]:
    """The five validated fields of a Create/UpdateCustomVerificationEmailTemplate body."""
    return [check_str(params.get(key), key) for key in _CVET_FIELDS]


def _custom_template(call: Call, name: str) -> CustomVerificationTemplate:
    """A stored custom verification template, or NotFoundException."""
    template = call.extras.custom_verification_templates.get(name)
    if template is None:
        raise not_found(f"Custom verification email template {name} does not exist.")
    return template


@operation("ListCustomVerificationEmailTemplates")
def list_custom_verification_email_templates(call: Call) -> dict[str, Any]:
    """ListCustomVerificationEmailTemplates in creation order; PageSize 1-50."""
    size = page_size(call.query("PageSize"), default=50, maximum=50)
    templates = list(call.extras.custom_verification_templates.values())
    page, token = paginate(
        templates, "ListCustomVerificationEmailTemplates", call.query("NextToken"), size
    )
    return drop_none(
        {
            "CustomVerificationEmailTemplates": [template.metadata() for template in page],
            "NextToken": token,
        }
    )


@operation("GetCustomVerificationEmailTemplate")
def get_custom_verification_email_template(call: Call) -> dict[str, Any]:
    """GetCustomVerificationEmailTemplate; NotFound for an unknown template."""
    return _custom_template(call, call.uri("TemplateName")).detail()


@operation("CreateCustomVerificationEmailTemplate")
def create_custom_verification_email_template(call: Call) -> dict[str, Any]:
    """Create one; AlreadyExists for a taken name, LimitExceeded past 50 templates."""
    params = call.body()
    name = _check_name(params.get("TemplateName"), "TemplateName")
    fields = _custom_template_fields(params)
    templates = call.extras.custom_verification_templates
    with call.extras.lock:
        if name in templates:
            raise already_exists(f"Custom verification email template {name} already exists.")
        if len(templates) >= _MAX_CUSTOM_VERIFICATION_TEMPLATES:
            raise limit_exceeded(
                f"An account can have at most {_MAX_CUSTOM_VERIFICATION_TEMPLATES} custom "
                "verification email templates."
            )
        templates[name] = CustomVerificationTemplate(name, *fields)
    return {}


@operation("UpdateCustomVerificationEmailTemplate")
def update_custom_verification_email_template(call: Call) -> dict[str, Any]:
    """Replace a custom verification template's fields; NotFound for an unknown one."""
    name = call.uri("TemplateName")
    _custom_template(call, name)
    fields = _custom_template_fields(call.body())
    call.extras.custom_verification_templates[name] = CustomVerificationTemplate(name, *fields)
    return {}


@operation("DeleteCustomVerificationEmailTemplate")
def delete_custom_verification_email_template(call: Call) -> dict[str, Any]:
    """Delete a custom verification template; NotFound for an unknown one."""
    name = call.uri("TemplateName")
    _custom_template(call, name)
    del call.extras.custom_verification_templates[name]
    return {}
