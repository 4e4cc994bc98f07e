"""Seeding: deterministic SES state written straight onto moto's backend objects.

Used by :class:`asyncses.local.LocalSES`; much faster than thousands of API calls.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._call import resource_arn
from ._constants import (
    BEHAVIORS_ON_MX_FAILURE,
    DKIM_STATUSES,
    HTTPS_POLICIES,
    IMPORT_JOB_STATUSES,
    MAIL_FROM_STATUSES,
    VERIFICATION_STATUSES,
)
from ._ops_config import event_destination, store_configuration_set, store_email_template
from ._ops_identities import ensure_identity, set_dkim, set_mail_from, set_verification
from ._state import CustomVerificationTemplate, DedicatedIp, ImportJob, extras_of

if TYPE_CHECKING:
    from moto.sesv2.models import SESV2Backend

_FINISHED_JOB_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
_DAY = 86400.0
_TOPICS = (
    ("newsletter", "Monthly newsletter", "OPT_IN"),
    ("product-updates", "Product updates", "OPT_OUT"),
    ("offers", "Special offers", "OPT_OUT"),
)


def weighted(rng: random.Random, choices: Sequence[str], weights: Sequence[int]) -> str:
    """One deterministic weighted choice."""
    return rng.choices(choices, weights=weights)[0]


def sending_policy(region: str, account_id: str, name: str) -> str:
    """A small sending-authorization policy document for identity ``name``."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowPartnerSend",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                    "Resource": f"arn:aws:ses:{region}:{account_id}:identity/{name}",
                }
            ],
        }
    )


def seed_identities(backend: SESV2Backend, count: int, prefix: str, seed: int) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_identities`."""
    core = backend.core_backend
    region, account_id = backend.region_name, backend.account_id
    rng = random.Random(seed)
    names: list[str] = []
    for i in range(count):
        is_email = i % 4 == 3
        name = f"{prefix}-{i:05d}@example.com" if is_email else f"{prefix}-{i:05d}.example.com"
        identity = ensure_identity(core, name)
        set_verification(identity, weighted(rng, VERIFICATION_STATUSES, (80, 8, 5, 4, 3)))
        identity.sending_enabled = rng.random() >= 0.05
        identity.feedback_forwarding_status = rng.random() >= 0.10
        dkim_status = weighted(rng, DKIM_STATUSES, (85, 5, 4, 3, 3))
        signing = rng.random() >= 0.15
        has_mail_from = rng.random() < 0.30
        mail_from_status = weighted(rng, MAIL_FROM_STATUSES, (70, 15, 10, 5))
        behavior = weighted(rng, BEHAVIORS_ON_MX_FAILURE, (70, 30))
        has_policy = rng.random() < 0.10
        if not is_email:
            set_dkim(core, identity, dkim_status, signing)
            if has_mail_from:
                set_mail_from(core, name, f"mail.{name}", mail_from_status, behavior)
            if has_policy:
                identity.policies["sending-authorization"] = sending_policy(
                    region, account_id, name
                )
        names.append(name)
    return names


def seed_pools(backend: SESV2Backend, count: int, prefix: str, ips_per_pool: int) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_pools`."""
    from moto.ses.models import DedicatedIpPool

    core = backend.core_backend
    extras = extras_of(backend)
    names: list[str] = []
    with extras.lock:
        for i in range(count):
            name = f"{prefix}-{i:03d}"
            mode = "MANAGED" if i % 3 == 2 else "STANDARD"
            core.dedicated_ip_pools[name] = DedicatedIpPool(
                pool_name=name, scaling_mode=mode, tags=[]
            )
            for ip in [ip for ip, rec in extras.dedicated_ips.items() if rec.pool_name == name]:
                del extras.dedicated_ips[ip]
            if mode == "STANDARD":
                for _ in range(ips_per_pool):
                    extras.ip_counter += 1
                    n = extras.ip_counter
                    address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
                    phase = n % 4
                    if phase == 2:
                        status, percentage = "IN_PROGRESS", (n * 37) % 99 + 1
                    elif phase == 3:
                        status, percentage = "NOT_APPLICABLE", 0
                    else:
                        status, percentage = "DONE", 100
                    extras.dedicated_ips[address] = DedicatedIp(address, status, percentage, name)
            names.append(name)
    return names


def seed_import_jobs(backend: SESV2Backend, count: int, seed: int) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_import_jobs`."""
    extras = extras_of(backend)
    rng = random.Random(seed * 1_000_003 + len(extras.import_jobs))
    now = time.time()
    job_ids: list[str] = []
    for i in range(count):
        job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        action = weighted(rng, ("PUT", "DELETE"), (80, 20))
        destination: dict[str, Any]
        if i % 2 == 0:
            destination = {"SuppressionListDestination": {"SuppressionListImportAction": action}}
        else:
            destination = {
                "ContactListDestination": {
                    "ContactListName": f"contacts-{i % 3}",
                    "ContactListImportAction": action,
                }
            }
        data_format = weighted(rng, ("CSV", "JSON"), (70, 30))
        status = IMPORT_JOB_STATUSES[(i // 2) % len(IMPORT_JOB_STATUSES)]
        created = round(now - (count - i) * 3600 - rng.uniform(0, 1800), 3)
        job = ImportJob(
            job_id=job_id,
            destination=destination,
            data_source={
                "S3Url": f"s3://asyncses-demo-imports/import-{i:05d}.{data_format.lower()}",
                "DataFormat": data_format,
            },
            status=status,
            created=created,
        )
        if status in _FINISHED_JOB_STATUSES:
            job.completed = round(created + rng.uniform(30, 3000), 3)
        if status == "PROCESSING":
            job.processed = rng.randint(10, 5000)
            job.failed = rng.randint(0, job.processed // 100)
        elif status == "COMPLETED":
            job.processed = rng.randint(100, 20000)
            job.failed = rng.randint(0, job.processed // 50)
        elif status == "CANCELLED":
            job.processed = rng.randint(0, 2000)
            job.failed = rng.randint(0, job.processed // 50)
        elif status == "FAILED":
            job.processed = rng.randint(0, 500)
            job.failed = rng.randint(1, 500)
            job.failure_info = {
                "FailedRecordsS3Url": (
                    f"https://asyncses-demo-imports.s3.amazonaws.com/failures/{job_id}.csv"
                ),
                "ErrorMessage": rng.choice(
                    (
                        "The input file is not in a supported format.",
                        "Access denied to the import data source.",
                        "Too many records failed validation.",
                    )
                ),
            }
        extras.import_jobs[job_id] = job
        job_ids.append(job_id)
    return job_ids


def seed_configuration_sets(backend: SESV2Backend, count: int, prefix: str, seed: int) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_configuration_sets`."""
    core = backend.core_backend
    extras = extras_of(backend)
    region, account_id, partition = backend.region_name, backend.account_id, backend.partition
    rng = random.Random(seed)
    names: list[str] = []
    for i in range(count):
        name = f"{prefix}-{i:03d}"
        options: dict[str, dict[str, Any] | None] = {
            "delivery": {"TlsPolicy": "REQUIRE" if i % 2 == 0 else "OPTIONAL"},
            "reputation": {"ReputationMetricsEnabled": i % 3 != 2},
            "sending": {"SendingEnabled": i % 5 != 4},
            "tracking": None,
            "suppression": None,
        }
        if rng.random() < 0.3:
            options["tracking"] = {
                "CustomRedirectDomain": f"track.{name}.example.com",
                "HttpsPolicy": weighted(rng, HTTPS_POLICIES, (2, 1, 1)),
            }
        suppression = rng.choice((None, None, ["BOUNCE", "COMPLAINT"], ["BOUNCE"], []))
        if suppression is not None:
            options["suppression"] = {"SuppressedReasons": suppression}
        arn = resource_arn(partition, region, account_id, "configuration-set", name)
        store_configuration_set(core, arn, name, options, [])
        topic = f"arn:aws:sns:{region}:{account_id}:ses-events-{i:03d}"
        kind = i % 4
        destinations: dict[str, dict[str, Any]] = {}
        if kind == 0:
            destinations["feedback"] = event_destination(
                "feedback",
                {
                    "Enabled": True,
                    "MatchingEventTypes": ["BOUNCE", "COMPLAINT", "DELIVERY"],
                    "SnsDestination": {"TopicArn": topic},
                },
            )
        elif kind == 1:
            destinations["metrics"] = event_destination(
                "metrics",
                {
                    "Enabled": True,
                    "MatchingEventTypes": ["SEND", "DELIVERY"],
                    "CloudWatchDestination": {
                        "DimensionConfigurations": [
                            {
                                "DimensionName": "ses:configuration-set",
                                "DimensionValueSource": "MESSAGE_TAG",
                                "DefaultDimensionValue": name,
                            }
                        ]
                    },
                },
            )
        elif kind == 2:
            destinations["feedback-disabled"] = event_destination(
                "feedback-disabled",
                {
                    "Enabled": False,
                    "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
                    "EventBridgeDestination": {
                        "EventBusArn": f"arn:aws:events:{region}:{account_id}:event-bus/default"
                    },
                },
            )
        extras.event_destinations[name] = destinations
        names.append(name)
    return names


def seed_suppressions(backend: SESV2Backend, count: int, seed: int) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_suppressions`."""
    rng = random.Random(seed)
    now = round(time.time())
    addresses = [f"suppressed-{i:07d}@example.com" for i in range(count)]
    draw = rng.random
    reasons = bytes(0 if draw() < 0.7 else 1 for _ in range(count))
    times = [round(now - draw() * 400 * _DAY, 3) for _ in range(count)]
    extras_of(backend).suppressions.put_many(addresses, reasons, times)
    return addresses


def seed_contact_lists(
    backend: SESV2Backend, lists: int, contacts_per_list: int, seed: int
) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_contact_lists`."""
    from moto.ses.models import Contact, ContactList

    core = backend.core_backend
    rng = random.Random(seed)
    now = round(time.time(), 3)
    names: list[str] = []
    for i in range(lists):
        name = f"contacts-{i}"
        topics = [
            {"TopicName": topic, "DisplayName": display, "DefaultSubscriptionStatus": default}
            for topic, display, default in _TOPICS[: 2 if i % 2 == 0 else 3]
        ]
        contact_list = ContactList(name, f"Seeded contact list {i}", topics)
        created = round(now - rng.uniform(30, 400) * _DAY, 3)
        vars(contact_list).update(created_timestamp=created, last_updated_timestamp=now)
        contacts = contact_list.contacts
        for j in range(contacts_per_list):
            address = f"contact-{j:06d}@example.com"
            preferences = []
            for topic in topics:
                roll = rng.random()
                if roll < 0.4:
                    preferences.append(
                        {"TopicName": topic["TopicName"], "SubscriptionStatus": "OPT_IN"}
                    )
                elif roll < 0.6:
                    preferences.append(
                        {"TopicName": topic["TopicName"], "SubscriptionStatus": "OPT_OUT"}
                    )
            unsubscribe_all = rng.random() < 0.05
            contact = Contact(name, address, preferences, unsubscribe_all, None)
            stamp = round(created + rng.random() * (now - created), 3)
            vars(contact).update(created_timestamp=stamp, last_updated_timestamp=stamp)
            contacts[address] = contact
        core.contacts_lists[name] = contact_list
        names.append(name)
    return names


def seed_templates(backend: SESV2Backend, count: int) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_templates`."""
    names: list[str] = []
    for i in range(count):
        name = f"template-{i:03d}"
        store_email_template(
            backend.core_backend,
            name,
            f"Hello {{{{name}}}} ({i})",
            f"Hi {{{{name}}}}, this is template {i}.",
            f"<p>Hi {{{{name}}}}, this is <b>template {i}</b>.</p>",
        )
        names.append(name)
    return names


def seed_custom_verification_templates(backend: SESV2Backend, count: int) -> list[str]:
    """See :meth:`asyncses.local.LocalSES.seed_custom_verification_templates`."""
    templates = extras_of(backend).custom_verification_templates
    names: list[str] = []
    for i in range(count):
        name = f"verification-{i:03d}"
        templates[name] = CustomVerificationTemplate(
            name=name,
            from_address=f"verify-{i}@example.com",
            subject=f"Please confirm your address ({i})",
            content=f"<p>Click the link to confirm ({i}).</p>",
            success_url=f"https://example.com/verified/{i}",
            failure_url=f"https://example.com/not-verified/{i}",
        )
        names.append(name)
    return names
