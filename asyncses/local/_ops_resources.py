"""Contact list, dedicated IP, import job and tagging operations."""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from ._call import Call, operation
from ._constants import SCALING_MODES, SUBSCRIPTION_STATUSES
from ._state import ImportJob
from ._util import (
    already_exists,
    bad_request,
    check_bool,
    check_enum,
    check_str,
    check_tags,
    drop_none,
    epoch,
    not_found,
    page_size,
    paginate,
)

if TYPE_CHECKING:
    from moto.ses.models import Contact, ContactList

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ARN = re.compile(
    r"^arn:(aws[a-z-]*):ses:([a-z0-9-]+):(\d{12}):"
    r"(identity|configuration-set|contact-list|dedicated-ip-pool)/(.+)$"
)


def _check_name(value: Any, what: str) -> str:
    """A resource name: 1-64 letters, digits, dashes and underscores."""
    name = check_str(value, what)
    if not _NAME.match(name):
        raise bad_request(f"{what} can have at most 64 letters, digits, dashes and underscores")
    return name


# --------------------------------------------------------------------------
# Contact lists and contacts
# --------------------------------------------------------------------------


def check_topics(raw: Any) -> list[dict[str, str]]:
    """A validated ``Topics`` list (TopicName, DisplayName, DefaultSubscriptionStatus)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("Topics must be a list")
    topics: list[dict[str, str]] = []
    for topic in raw:
        if not isinstance(topic, dict):
            raise bad_request("Every topic must be an object")
        entry = {
            "TopicName": check_str(topic.get("TopicName"), "TopicName"),
            "DisplayName": check_str(topic.get("DisplayName"), "DisplayName"),
            "DefaultSubscriptionStatus": check_enum(
                topic.get("DefaultSubscriptionStatus"),
                SUBSCRIPTION_STATUSES,
                "DefaultSubscriptionStatus",
            ),
        }
        if topic.get("Description") is not None:
            entry["Description"] = check_str(topic["Description"], "Description")
        topics.append(entry)
    if len({topic["TopicName"] for topic in topics}) != len(topics):
        raise bad_request("Topic names must be unique")
    return topics


def _check_preferences(raw: Any, contact_list: ContactList) -> list[dict[str, str]]:
    """Validated ``TopicPreferences`` naming only topics of ``contact_list``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("TopicPreferences must be a list")
    known = {topic["TopicName"] for topic in contact_list.topics}
    preferences: list[dict[str, str]] = []
    for preference in raw:
        if not isinstance(preference, dict):
            raise bad_request("Every topic preference must be an object")
        name = check_str(preference.get("TopicName"), "TopicName")
        if name not in known:
            raise bad_request(f"Topic {name} does not exist in {contact_list.contact_list_name}")
        status = check_enum(
            preference.get("SubscriptionStatus"), SUBSCRIPTION_STATUSES, "SubscriptionStatus"
        )
        preferences.append({"TopicName": name, "SubscriptionStatus": status})
    return preferences


def _contact_list(call: Call, name: str) -> ContactList:
    """A contact list of this account and region, or NotFoundException."""
    found = call.core.contacts_lists.get(name)
    if found is None:
        raise not_found(f"List with name: {name} doesn't exist.")
    return found


def _contact(contact_list: ContactList, address: str) -> Contact:
    """A contact of the list, or NotFoundException."""
    found = contact_list.contacts.get(address)
    if found is None:
        raise not_found(f"{address} doesn't exist in List.")
    return found


def default_preferences(contact_list: ContactList) -> list[dict[str, str]]:
    """``TopicDefaultPreferences``: each topic's DefaultSubscriptionStatus."""
    return [
        {"TopicName": topic["TopicName"], "SubscriptionStatus": topic["DefaultSubscriptionStatus"]}
        for topic in contact_list.topics
    ]


def _touch(obj: Any) -> None:
    """Set an object's LastUpdatedTimestamp to now."""
    vars(obj)["last_updated_timestamp"] = round(time.time(), 3)


@operation("CreateContactList")
def create_contact_list(call: Call) -> dict[str, Any]:
    """CreateContactList; AlreadyExists for a taken name."""
    from moto.ses.models import ContactList

    params = call.body()
    name = _check_name(params.get("ContactListName"), "ContactListName")
    topics = check_topics(params.get("Topics"))
    tags = check_tags(params.get("Tags"))
    description = params.get("Description")
    if description is not None:
        check_str(description, "Description")
    if name in call.core.contacts_lists:
        raise already_exists(f"List with name: {name} already exists.")
    contact_list = ContactList(name, description, topics)
    now = round(time.time(), 3)
    vars(contact_list).update(created_timestamp=now, last_updated_timestamp=now)
    call.core.contacts_lists[name] = contact_list
    if tags:
        call.core.tagger.tag_resource(call.arn("contact-list", name), tags)
    return {}


@operation("ListContactLists")
def list_contact_lists(call: Call) -> dict[str, Any]:
    """ListContactLists in creation order; PageSize 1-1000."""
    size = page_size(call.query("PageSize"))
    lists = list(call.core.contacts_lists.values())
    page, token = paginate(lists, "ListContactLists", call.query("NextToken"), size)
    return drop_none(
        {
            "ContactLists": [
                {
                    "ContactListName": item.contact_list_name,
                    "LastUpdatedTimestamp": epoch(item.last_updated_timestamp),
                }
                for item in page
            ],
            "NextToken": token,
        }
    )


@operation("GetContactList")
def get_contact_list(call: Call) -> dict[str, Any]:
    """GetContactList with topics, timestamps and tags."""
    name = call.uri("ContactListName")
    found = _contact_list(call, name)
    return drop_none(
        {
            "ContactListName": name,
            "Topics": list(found.topics),
            "Description": found.description,
            "CreatedTimestamp": epoch(found.created_timestamp),
            "LastUpdatedTimestamp": epoch(found.last_updated_timestamp),
            "Tags": call.core.tagger.list_tags_for_resource(call.arn("contact-list", name)).get(
                "Tags", []
            ),
        }
    )


@operation("UpdateContactList")
def update_contact_list(call: Call) -> dict[str, Any]:
    """UpdateContactList: replaces Topics and Description."""
    found = _contact_list(call, call.uri("ContactListName"))
    params = call.body()
    found.topics = check_topics(params.get("Topics"))
    found.description = params.get("Description")
    _touch(found)
    return {}


@operation("DeleteContactList")
def delete_contact_list(call: Call) -> dict[str, Any]:
    """DeleteContactList with its contacts and tags."""
    name = call.uri("ContactListName")
    _contact_list(call, name)
    del call.core.contacts_lists[name]
    call.core.tagger.delete_all_tags_for_resource(call.arn("contact-list", name))
    return {}


@operation("CreateContact")
def create_contact(call: Call) -> dict[str, Any]:
    """CreateContact; AlreadyExists for an address already on the list."""
    from moto.ses.models import Contact

    found = _contact_list(call, call.uri("ContactListName"))
    params = call.body()
    address = check_str(params.get("EmailAddress"), "EmailAddress", max_length=320)
    preferences = _check_preferences(params.get("TopicPreferences"), found)
    unsubscribe_all = check_bool(params.get("UnsubscribeAll", False), "UnsubscribeAll")
    attributes = params.get("AttributesData")
    if attributes is not None:
        check_str(attributes, "AttributesData")
    if address in found.contacts:
        raise already_exists(f"Contact {address} already exists in the list.")
    contact = Contact(found.contact_list_name, address, preferences, unsubscribe_all, attributes)
    now = round(time.time(), 3)
    vars(contact).update(created_timestamp=now, last_updated_timestamp=now)
    found.contacts[address] = contact
    return {}


@operation("GetContact")
def get_contact(call: Call) -> dict[str, Any]:
    """GetContact with explicit and default topic preferences."""
    found = _contact_list(call, call.uri("ContactListName"))
    contact = _contact(found, call.uri("EmailAddress"))
    return drop_none(
        {
            "ContactListName": found.contact_list_name,
            "EmailAddress": contact.email_address,
            "TopicPreferences": list(contact.topic_preferences),
            "TopicDefaultPreferences": default_preferences(found),
            "UnsubscribeAll": contact.unsubscribe_all,
            "AttributesData": contact.attributes_data,
            "CreatedTimestamp": epoch(contact.created_timestamp),
            "LastUpdatedTimestamp": epoch(contact.last_updated_timestamp),
        }
    )


@operation("UpdateContact")
def update_contact(call: Call) -> dict[str, Any]:
    """UpdateContact: replaces the given TopicPreferences, UnsubscribeAll, AttributesData."""
    found = _contact_list(call, call.uri("ContactListName"))
    contact = _contact(found, call.uri("EmailAddress"))
    params = call.body()
    if "TopicPreferences" in params:
        contact.topic_preferences = _check_preferences(params["TopicPreferences"], found)
    if "UnsubscribeAll" in params:
        contact.unsubscribe_all = check_bool(params["UnsubscribeAll"], "UnsubscribeAll")
    if "AttributesData" in params:
        contact.attributes_data = params["AttributesData"]
    _touch(contact)
    return {}


@operation("DeleteContact")
def delete_contact(call: Call) -> dict[str, Any]:
    """DeleteContact; NotFound for an address not on the list."""
    found = _contact_list(call, call.uri("ContactListName"))
    address = call.uri("EmailAddress")
    _contact(found, address)
    del found.contacts[address]
    return {}


def _contact_filter(raw: Any, contact_list: ContactList) -> Any:
    """A predicate for ListContacts' ``Filter``.

    With a TopicFilter: contacts whose status for that topic (OPT_OUT when
    UnsubscribeAll; else their preference, or the topic's default if
    UseDefaultIfPreferenceUnavailable) equals FilteredStatus (any status if not
    given); contacts without a preference are left out unless defaults apply.
    Without a TopicFilter, FilteredStatus OPT_OUT selects UnsubscribeAll contacts
    and OPT_IN the others.
    """
    if raw is None:
        return lambda contact: True
    if not isinstance(raw, dict):
        raise bad_request("Filter must be an object")
    status = raw.get("FilteredStatus")
    if status is not None:
        check_enum(status, SUBSCRIPTION_STATUSES, "FilteredStatus")
    topic_filter = raw.get("TopicFilter")
    if topic_filter is None:
        if status is None:
            return lambda contact: True
        return lambda contact: ("OPT_OUT" if contact.unsubscribe_all else "OPT_IN") == status
    if not isinstance(topic_filter, dict):
        raise bad_request("TopicFilter must be an object")
    topic = check_str(topic_filter.get("TopicName"), "TopicFilter.TopicName")
    use_default = check_bool(
        topic_filter.get("UseDefaultIfPreferenceUnavailable", False),
        "UseDefaultIfPreferenceUnavailable",
    )
    default = next(
        (t["DefaultSubscriptionStatus"] for t in contact_list.topics if t["TopicName"] == topic),
        None,
    )

    def keep(contact: Contact) -> bool:
        """Whether ``contact`` passes the topic filter."""
        effective = next(
            (p["SubscriptionStatus"] for p in contact.topic_preferences if p["TopicName"] == topic),
            default if use_default else None,
        )
        if effective is None:
            return False
        if contact.unsubscribe_all:
            effective = "OPT_OUT"
        return status is None or effective == status

    return keep


@operation("ListContacts")
def list_contacts(call: Call) -> dict[str, Any]:
    """ListContacts (POST, JSON body: Filter, PageSize 1-1000, NextToken), in creation order."""
    found = _contact_list(call, call.uri("ContactListName"))
    params = call.body()
    size = page_size(params.get("PageSize"))
    keep = _contact_filter(params.get("Filter"), found)
    contacts = [contact for contact in list(found.contacts.values()) if keep(contact)]
    page, token = paginate(contacts, "ListContacts", params.get("NextToken"), size)
    defaults = default_preferences(found)
    return drop_none(
        {
            "Contacts": [
                {
                    "EmailAddress": contact.email_address,
                    "TopicPreferences": list(contact.topic_preferences),
                    "TopicDefaultPreferences": defaults,
                    "UnsubscribeAll": contact.unsubscribe_all,
                    "LastUpdatedTimestamp": epoch(contact.last_updated_timestamp),
                }
                for contact in page
            ],
            "NextToken": token,
        }
    )


# --------------------------------------------------------------------------
# Dedicated IP pools and dedicated IPs
# --------------------------------------------------------------------------


def _pool_mode(call: Call, name: str) -> str:
    """The scaling mode of an existing pool, or NotFoundException."""
    pool = call.core.dedicated_ip_pools.get(name)
    if pool is None:
        raise not_found(f"Pool {name} does not exist.")
    return pool.scaling_mode


@operation("ListDedicatedIpPools")
def list_dedicated_ip_pools(call: Call) -> dict[str, Any]:
    """ListDedicatedIpPools in creation order; PageSize 1-1000."""
    size = page_size(call.query("PageSize"))
    names = list(call.core.dedicated_ip_pools)
    page, token = paginate(names, "ListDedicatedIpPools", call.query("NextToken"), size)
    return drop_none({"DedicatedIpPools": page, "NextToken": token})


@operation("CreateDedicatedIpPool")
def create_dedicated_ip_pool(call: Call) -> dict[str, Any]:
    """CreateDedicatedIpPool; AlreadyExists for a taken name (moto accepts duplicates)."""
    from moto.ses.models import DedicatedIpPool

    params = call.body()
    name = _check_name(params.get("PoolName"), "PoolName")
    mode = check_enum(params.get("ScalingMode") or "STANDARD", SCALING_MODES, "ScalingMode")
    tags = check_tags(params.get("Tags"))
    if name in call.core.dedicated_ip_pools:
        raise already_exists(f"Pool {name} already exists.")
    pool = DedicatedIpPool(pool_name=name, scaling_mode=mode, tags=tags)
    call.core.dedicated_ip_pools[name] = pool
    if tags:
        call.core.tagger.tag_resource(call.arn("dedicated-ip-pool", name), tags)
    return {}


@operation("GetDedicatedIpPool")
def get_dedicated_ip_pool(call: Call) -> dict[str, Any]:
    """GetDedicatedIpPool: PoolName and ScalingMode."""
    name = call.uri("PoolName")
    return {"DedicatedIpPool": {"PoolName": name, "ScalingMode": _pool_mode(call, name)}}


@operation("DeleteDedicatedIpPool")
def delete_dedicated_ip_pool(call: Call) -> dict[str, Any]:
    """DeleteDedicatedIpPool with its dedicated IPs and tags; NotFound for an unknown pool."""
    name = call.uri("PoolName")
    _pool_mode(call, name)
    del call.core.dedicated_ip_pools[name]
    ips = call.extras.dedicated_ips
    with call.extras.lock:
        for ip in [ip for ip, record in ips.items() if record.pool_name == name]:
            del ips[ip]
    call.core.tagger.delete_all_tags_for_resource(call.arn("dedicated-ip-pool", name))
    return {}


@operation("PutDedicatedIpPoolScalingAttributes")
def put_dedicated_ip_pool_scaling_attributes(call: Call) -> dict[str, Any]:
    """STANDARD -> MANAGED (or unchanged); MANAGED -> STANDARD is a BadRequestException."""
    name = call.uri("PoolName")
    current = _pool_mode(call, name)
    mode = check_enum(call.body().get("ScalingMode"), SCALING_MODES, "ScalingMode")
    if current == "MANAGED" and mode == "STANDARD":
        raise bad_request("MANAGED pools cannot be converted to STANDARD scaling mode.")
    call.core.dedicated_ip_pools[name].scaling_mode = mode
    return {}


@operation("GetDedicatedIps")
def get_dedicated_ips(call: Call) -> dict[str, Any]:
    """GetDedicatedIps, optionally of one pool (NotFound if unknown); PageSize 1-1000."""
    pool_name = call.query("PoolName")
    if pool_name:
        _pool_mode(call, pool_name)
    size = page_size(call.query("PageSize"))
    ips = [
        record
        for record in list(call.extras.dedicated_ips.values())
        if not pool_name or record.pool_name == pool_name
    ]
    page, token = paginate(ips, "GetDedicatedIps", call.query("NextToken"), size)
    return drop_none({"DedicatedIps": [record.to_dict() for record in page], "NextToken": token})


def _dedicated_ip(call: Call) -> Any:
    """The dedicated IP named by the IP URI label, or NotFoundException."""
    address = call.uri("IP")
    record = call.extras.dedicated_ips.get(address)
    if record is None:
        raise not_found(f"Dedicated IP {address} does not exist.")
    return record


@operation("GetDedicatedIp")
def get_dedicated_ip(call: Call) -> dict[str, Any]:
    """GetDedicatedIp; NotFound for an unknown address."""
    return {"DedicatedIp": _dedicated_ip(call).to_dict()}


@operation("PutDedicatedIpInPool")
def put_dedicated_ip_in_pool(call: Call) -> dict[str, Any]:
    """Move an IP to another STANDARD pool; NotFound for an unknown IP or pool."""
    record = _dedicated_ip(call)
    destination = check_str(call.body().get("DestinationPoolName"), "DestinationPoolName")
    if _pool_mode(call, destination) == "MANAGED":
        raise bad_request(f"Pool {destination} is MANAGED; IPs can only be moved to STANDARD pools")
    record.pool_name = destination
    return {}


@operation("PutDedicatedIpWarmupAttributes")
def put_dedicated_ip_warmup_attributes(call: Call) -> dict[str, Any]:
    """Set WarmupPercentage (0-100); 100 means DONE, anything else IN_PROGRESS."""
    record = _dedicated_ip(call)
    percentage = call.body().get("WarmupPercentage")
    if (
        not isinstance(percentage, int)
        or isinstance(percentage, bool)
        or not 0 <= percentage <= 100
    ):
        raise bad_request("WarmupPercentage must be an integer from 0 to 100")
    record.warmup_percentage = percentage
    record.warmup_status = "DONE" if percentage == 100 else "IN_PROGRESS"
    return {}


# --------------------------------------------------------------------------
# Import jobs
# --------------------------------------------------------------------------


@operation("CreateImportJob")
def create_import_job(call: Call) -> dict[str, Any]:
    """CreateImportJob: stores a CREATED job and answers its JobId."""
    params = call.body()
    destination = params.get("ImportDestination")
    data_source = params.get("ImportDataSource")
    if not isinstance(destination, dict) or not (
        "SuppressionListDestination" in destination or "ContactListDestination" in destination
    ):
        raise bad_request("ImportDestination is required")
    if not isinstance(data_source, dict) or not data_source.get("S3Url"):
        raise bad_request("ImportDataSource with an S3Url is required")
    if data_source.get("DataFormat") not in ("CSV", "JSON"):
        raise bad_request("ImportDataSource.DataFormat must be CSV or JSON")
    job = ImportJob(
        job_id=str(uuid.uuid4()),
        destination=destination,
        data_source=data_source,
        status="CREATED",
        created=round(time.time(), 3),
    )
    call.extras.import_jobs[job.job_id] = job
    return {"JobId": job.job_id}


@operation("ListImportJobs")
def list_import_jobs(call: Call) -> dict[str, Any]:
    """ListImportJobs (POST, JSON body) with the ImportDestinationType filter; PageSize 1-1000."""
    params = call.body()
    wanted = params.get("ImportDestinationType")
    if wanted is not None:
        check_enum(wanted, ("SUPPRESSION_LIST", "CONTACT_LIST"), "ImportDestinationType")
    size = page_size(params.get("PageSize"))
    jobs = [
        job
        for job in list(call.extras.import_jobs.values())
        if wanted is None or job.destination_type == wanted
    ]
    page, token = paginate(jobs, "ListImportJobs", params.get("NextToken"), size)
    return drop_none({"ImportJobs": [job.summary() for job in page], "NextToken": token})


@operation("GetImportJob")
def get_import_job(call: Call) -> dict[str, Any]:
    """GetImportJob, or NotFoundException for an unknown JobId."""
    job_id = call.uri("JobId")
    job = call.extras.import_jobs.get(job_id)
    if job is None:
        raise not_found(f"Import job {job_id} does not exist.")
    return job.detail()


# --------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------


def _tagged_arn(call: Call, raw: Any) -> str:
    """A validated ARN of an existing taggable resource of this account and region."""
    arn = check_str(raw, "ResourceArn")
    match = _ARN.match(arn)
    if match is None:
        raise bad_request(f"Invalid ResourceArn: {arn}")
    _partition, region, account, kind, name = match.groups()
    core = call.core
    stores: dict[str, Any] = {
        "identity": core.email_identities,
        "configuration-set": core.config_sets,
        "contact-list": core.contacts_lists,
        "dedicated-ip-pool": core.dedicated_ip_pools,
    }
    if (region, account) != (call.region, call.account) or name not in stores[kind]:
        raise not_found(f"Resource {arn} does not exist.")
    return arn


@operation("TagResource")
def tag_resource(call: Call) -> dict[str, Any]:
    """TagResource: add or overwrite tags (at most 50 per resource)."""
    params = call.body()
    arn = _tagged_arn(call, params.get("ResourceArn"))
    tags = check_tags(params.get("Tags"))
    if not tags:
        raise bad_request("Tags must list at least one tag")
    tagger = call.core.tagger
    merged = tagger.get_tag_dict_for_resource(arn) | {tag["Key"]: tag["Value"] for tag in tags}
    if len(merged) > 50:
        raise bad_request("A resource can have at most 50 tags")
    tagger.tag_resource(arn, tags)
    return {}


@operation("UntagResource")
def untag_resource(call: Call) -> dict[str, Any]:
    """UntagResource (DELETE; ResourceArn and repeated TagKeys in the query)."""
    arn = _tagged_arn(call, call.query("ResourceArn"))
    keys = call.query_list("TagKeys")
    if not keys:
        raise bad_request("TagKeys must list at least one key")
    call.core.tagger.untag_resource_using_names(arn, keys)
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(call: Call) -> dict[str, Any]:
    """ListTagsForResource (GET; ResourceArn in the query)."""
    arn = _tagged_arn(call, call.query("ResourceArn"))
    return {"Tags": call.core.tagger.list_tags_for_resource(arn).get("Tags", [])}
