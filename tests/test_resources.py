"""The rest of an SES audit: ``account``, ``configuration-sets``, ``suppressions``,
``contact-lists`` and ``templates`` against the local endpoint.

Per command: records complete and correct against what was seeded (read back through a
boto3 client), pagination, filters, each finding, error records, ``--resume``, ``summary``
and ``diff``; then the 100,000-address suppression list, ``scripts/daily-report`` with three
resources and ``asyncses demo``.

Runs are in-process (``asyncses.cli.main``, the daily report's ``main``); the demo, which
starts an endpoint of its own, runs as a child process.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import asyncses
from asyncses import FINDINGS
from asyncses.local import LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import DAILY_REPORT, REGION, ROOT, Cli, Result, load_script, read_lines, read_ndjson

EU = "eu-west-1"
FAST = ("--rate", "1000", "--no-progress")  # no cautious start against the local endpoint


def run(cli: Cli, url: str, command: str, report: Path, *extra: str) -> Result:
    """``asyncses COMMAND --endpoint-url URL -o REPORT ...`` (fast pace, no progress bar)."""
    return cli(command, "--endpoint-url", url, "-o", str(report), *FAST, *extra)


def audit(cli: Cli, ses: LocalSES, command: str, report: Path, *extra: str) -> list[Any]:
    """A run that must succeed; its records."""
    result = run(cli, ses.url, command, report, *extra)
    assert result.code == 0, result.err
    return read_ndjson(report)


def plain(value: Any) -> Any:
    """A boto3 answer as the records hold it: no ResponseMetadata, datetimes in UTC ISO."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in names}


def fail_lookups(ses: LocalSES, operation: str, **match: str) -> None:
    """``operation`` answers InternalFailure (500) where its parameters match, until reset."""

    def hook(_account: str, _region: str, params: dict[str, Any]) -> None:
        if all(params.get(key) == value for key, value in match.items()):
            raise RuntimeError("injected")

    ses.before(operation, hook)


def summary_json(cli: Cli, *reports: Path) -> dict[str, Any]:
    result = cli("summary", *map(str, reports), "--format", "json")
    assert result.code == 0, result.err
    found: dict[str, Any] = json.loads(result.out)
    return found


# -- account -------------------------------------------------------------------------------


def test_account_record_is_complete(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """One ses_account record per region, holding every field of GetAccount."""
    details = {"MailType": "TRANSACTIONAL", "WebsiteURL": "https://example.com"}
    ses.set_account(
        REGION,
        max_24_hour_send=10000.0,
        max_send_rate=20.0,
        sent_last_24_hours=1234.0,
        suppressed_reasons=["BOUNCE"],
        vdm_enabled=True,
        details=details,
    )
    ses.set_account(EU, production_access=False)
    records = audit(cli, ses, "account", tmp_path / "a.ndjson", "--region", f"{REGION},{EU}")
    by_region = {r["region"]: r for r in records}
    assert sorted(by_region) == sorted([REGION, EU])
    record = by_region[REGION]
    answer = plain(sesv2.get_account())
    assert without(record, "type", "region", "error", "findings") == answer
    assert record["SendQuota"] == {
        "Max24HourSend": 10000.0,
        "MaxSendRate": 20.0,
        "SentLast24Hours": 1234.0,
    }
    assert record["SuppressionAttributes"] == {"SuppressedReasons": ["BOUNCE"]}
    assert record["VdmAttributes"] == {"VdmEnabled": "ENABLED"}
    assert record["Details"]["MailType"] == "TRANSACTIONAL"
    assert (record["type"], record["error"], record["findings"]) == ("ses_account", None, [])
    assert by_region[EU]["ProductionAccessEnabled"] is False
    assert by_region[EU]["findings"] == ["SANDBOX"]


@pytest.mark.parametrize(
    ("settings", "extra", "findings"),
    [
        pytest.param({"production_access": False}, (), ["SANDBOX"], id="sandbox"),
        pytest.param({"sending_enabled": False}, (), ["SENDING_PAUSED"], id="paused"),
        pytest.param(
            {"enforcement_status": "PROBATION"}, (), ["ENFORCEMENT_PROBATION"], id="probation"
        ),
        pytest.param(
            {"enforcement_status": "SHUTDOWN"}, (), ["ENFORCEMENT_SHUTDOWN"], id="shutdown"
        ),
        pytest.param(
            {"max_24_hour_send": 1000.0, "sent_last_24_hours": 800.0},
            (),
            ["QUOTA_NEARLY_USED"],
            id="quota-at-0.8",
        ),
        pytest.param(
            {"max_24_hour_send": 1000.0, "sent_last_24_hours": 799.0}, (), [], id="quota-below"
        ),
        pytest.param(
            {"max_24_hour_send": 1000.0, "sent_last_24_hours": 500.0},
            ("--quota-threshold", "0.5"),
            ["QUOTA_NEARLY_USED"],
            id="quota-at-threshold",
        ),
        pytest.param(
            {"max_24_hour_send": 1000.0, "sent_last_24_hours": 499.0},
            ("--quota-threshold", "0.5"),
            [],
            id="quota-below-threshold",
        ),
        pytest.param(
            {
                "production_access": False,
                "sending_enabled": False,
                "enforcement_status": "SHUTDOWN",
                "sent_last_24_hours": 200.0,
            },
            (),
            ["SANDBOX", "SENDING_PAUSED", "ENFORCEMENT_SHUTDOWN", "QUOTA_NEARLY_USED"],
            id="all-at-once",
        ),
    ],
)
def test_account_findings(
    cli: Cli,
    ses: LocalSES,
    tmp_path: Path,
    settings: dict[str, Any],
    extra: tuple[str, ...],
    findings: list[str],
) -> None:
    """Each account finding fires exactly when its condition holds."""
    ses.set_account(REGION, **settings)
    [record] = audit(cli, ses, "account", tmp_path / "a.ndjson", *extra)
    assert record["findings"] == findings
    if "QUOTA_NEARLY_USED" in findings:
        quota = record["SendQuota"]
        threshold = float(extra[1]) if extra else 0.8
        assert record["findings_detail"]["QUOTA_NEARLY_USED"] == {
            "used": round(quota["SentLast24Hours"] / quota["Max24HourSend"], 4),
            "threshold": threshold,
        }
    else:
        assert "findings_detail" not in record


def test_account_fail_on_sandbox_exits_1(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """--fail-on SANDBOX exits 1 for a sandbox account (the report is still written), 0 else."""
    ses.set_account(REGION, production_access=False)
    report = tmp_path / "a.ndjson"
    result = run(cli, ses.url, "account", report, "--fail-on", "SANDBOX")
    assert result.code == 1
    assert "--fail-on" in result.err
    assert read_ndjson(report)[0]["findings"] == ["SANDBOX"]
    ses.set_account(REGION)
    assert run(cli, ses.url, "account", report, "--fail-on", "SANDBOX").code == 0
    assert read_ndjson(report)[0]["findings"] == []


@pytest.mark.parametrize(
    ("command", "code"), [("configuration-sets", "SANDBOX"), ("account", "PUBLIC_POLICY")]
)
def test_fail_on_a_finding_the_command_never_reports_is_refused(
    cli: Cli, ses: LocalSES, tmp_path: Path, command: str, code: str
) -> None:
    """--fail-on a code this command's records can never carry is a usage error (exit 2)."""
    ses.set_account(REGION, production_access=False)
    ses.seed_configuration_sets(REGION, 2)
    result = run(cli, ses.url, command, tmp_path / "r.ndjson", "--fail-on", code)
    assert result.code == 2
    assert code in result.err


# -- configuration sets ----------------------------------------------------------------------


def expected_set_findings(i: int) -> list[str]:
    """The findings of seeded configuration set ``i`` (see LocalSES.seed_configuration_sets)."""
    found = []
    if i % 4 != 0:  # SEND-only, disabled, or no destination
        found.append("NO_BOUNCE_COMPLAINT_DESTINATION")
    if i % 2 == 1:
        found.append("TLS_OPTIONAL")
    if i % 3 == 2:
        found.append("REPUTATION_METRICS_OFF")
    if i % 5 == 4:
        found.append("SENDING_DISABLED")
    return found


def test_configuration_sets_pages_and_findings(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """Every set once over pages of 2, with each lookup's fields and the findings that follow
    from the seeded variety (a disabled and a SEND-only destination receive no feedback)."""
    names = ses.seed_configuration_sets(REGION, 12)
    records = audit(cli, ses, "configuration-sets", tmp_path / "c.ndjson", "--page-size", "2")
    assert ses.operation_calls["ListConfigurationSets"] == 6
    by_name = {r["ConfigurationSetName"]: r for r in records}
    assert len(records) == len(by_name) == 12
    assert sorted(by_name) == names
    for i, name in enumerate(names):
        record = by_name[name]
        assert record["findings"] == expected_set_findings(i), name
        answer = plain(sesv2.get_configuration_set(ConfigurationSetName=name))
        destinations = plain(
            sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
        )
        assert without(record, "type", "region", "error", "findings", "findings_detail") == {
            **answer,
            "EventDestinations": destinations["EventDestinations"],
        }
        if i % 4 != 0:
            assert record["findings_detail"]["NO_BOUNCE_COMPLAINT_DESTINATION"] == {
                "missing": ["BOUNCE", "COMPLAINT"]
            }


def test_configuration_set_missing_only_complaints(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """A set whose only enabled destination takes BOUNCE still lacks COMPLAINT; one with both
    (and TLS required, reputation metrics on) has no finding at all."""
    for name, events in (("bounces", ["BOUNCE"]), ("both", ["BOUNCE", "COMPLAINT"])):
        sesv2.create_configuration_set(
            ConfigurationSetName=name,
            DeliveryOptions={"TlsPolicy": "REQUIRE"},
            ReputationOptions={"ReputationMetricsEnabled": True},
        )
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=name,
            EventDestinationName="sns",
            EventDestination={
                "Enabled": True,
                "MatchingEventTypes": events,
                "SnsDestination": {"TopicArn": f"arn:aws:sns:{REGION}:123456789012:t"},
            },
        )
    records = audit(cli, ses, "configuration-sets", tmp_path / "c.ndjson")
    by_name = {r["ConfigurationSetName"]: r for r in records}
    assert by_name["bounces"]["findings"] == ["NO_BOUNCE_COMPLAINT_DESTINATION"]
    assert by_name["bounces"]["findings_detail"] == {
        "NO_BOUNCE_COMPLAINT_DESTINATION": {"missing": ["COMPLAINT"]}
    }
    assert by_name["both"]["findings"] == []


def test_configuration_set_lookup_failing_gives_one_error_record(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """GetConfigurationSet failing for one set: its error record, the others whole, exit 1."""
    names = ses.seed_configuration_sets(REGION, 5)
    fail_lookups(ses, "GetConfigurationSet", ConfigurationSetName="configset-002")
    report = tmp_path / "c.ndjson"
    result = run(cli, ses.url, "configuration-sets", report, "--max-attempts", "2")
    assert result.code == 1
    by_name = {r["ConfigurationSetName"]: r for r in read_ndjson(report)}
    assert sorted(by_name) == names
    failed = by_name.pop("configset-002")
    assert failed["error"]["operation"] == "GetConfigurationSet"
    assert failed["error"]["code"] == "InternalFailure"
    assert failed["error"]["attempts"] == 2
    assert "findings" not in failed
    assert all(r["error"] is None and "DeliveryOptions" in r for r in by_name.values())
    assert read_lines(report)[-1]["errors"] == 1


def test_configuration_set_500_at_the_proxy_gives_one_error_record(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """A proxy answering 500 for one set's event destinations: that set's error record names
    the operation; the other sets are whole; exit 1."""
    names = ses.seed_configuration_sets(REGION, 4)
    faults = Faults(error=1.0, match=r"^GET /v2/email/configuration-sets/configset-001/event-")
    report = tmp_path / "c.ndjson"
    with FaultProxy(ses.url, faults) as proxy:
        result = run(cli, proxy.url, "configuration-sets", report, "--max-attempts", "2")
        assert proxy.stats.errors == 2
    assert result.code == 1
    records = {r["ConfigurationSetName"]: r for r in read_ndjson(report)}
    assert sorted(records) == names
    failed = records.pop("configset-001")
    assert failed["error"]["operation"] == "GetConfigurationSetEventDestinations"
    assert all(r["error"] is None and "EventDestinations" in r for r in records.values())


def test_diff_of_configuration_set_reports(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """diff of two configuration-set reports names the set changed (and the fields that did),
    the one added and the one removed; it exits 1 (0 for a report against itself)."""
    ses.seed_configuration_sets(REGION, 4)
    old = tmp_path / "old.ndjson"
    audit(cli, ses, "configuration-sets", old)
    feedback = {
        "Enabled": True,
        "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
        "SnsDestination": {"TopicArn": f"arn:aws:sns:{REGION}:123456789012:feedback"},
    }
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="configset-001",
        EventDestinationName="feedback",
        EventDestination=feedback,
    )
    sesv2.delete_configuration_set(ConfigurationSetName="configset-003")
    sesv2.create_configuration_set(ConfigurationSetName="fresh")
    new = tmp_path / "new.ndjson"
    audit(cli, ses, "configuration-sets", new)
    result = cli("diff", str(old), str(new))
    assert result.code == 1, result.err
    changes = {c["key"]: c for c in map(json.loads, result.out.splitlines())}
    assert {k: c["change"] for k, c in changes.items()} == {
        "configset-001": "changed",
        "configset-003": "removed",
        "fresh": "added",
    }
    changed = changes["configset-001"]["changes"]
    assert sorted(changed) == [
        "EventDestinations",
        "findings",
        "findings_detail.NO_BOUNCE_COMPLAINT_DESTINATION.missing",
    ]
    assert changed["findings"] == {
        "old": ["NO_BOUNCE_COMPLAINT_DESTINATION", "TLS_OPTIONAL"],
        "new": ["TLS_OPTIONAL"],
    }
    assert [d["Name"] for d in changed["EventDestinations"]["new"]] == ["metrics", "feedback"]
    same = cli("diff", str(new), str(new))
    assert (same.code, same.out) == (0, "")


# -- suppressions ----------------------------------------------------------------------------


def listed_suppressions(sesv2: Any, **filters: Any) -> dict[str, dict[str, Any]]:
    """Address -> summary, as ListSuppressedDestinations answers (every page)."""
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"PageSize": 1000, **filters}
    while True:
        page = sesv2.list_suppressed_destinations(**params)
        for entry in plain(page["SuppressedDestinationSummaries"]):
            found[entry["EmailAddress"]] = entry
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]


def test_suppressions_over_pages(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """One record per address over pages of 2, with its reason and time; no Attributes."""
    addresses = ses.seed_suppressions(REGION, 25)
    records = audit(cli, ses, "suppressions", tmp_path / "s.ndjson", "--page-size", "2")
    assert ses.operation_calls["ListSuppressedDestinations"] == 13
    assert "GetSuppressedDestination" not in ses.operation_calls
    by_address = {r["EmailAddress"]: r for r in records}
    assert len(records) == len(by_address) == 25
    assert sorted(by_address) == addresses
    listed = listed_suppressions(sesv2)
    for address, record in by_address.items():
        assert without(record, "type", "region", "error") == listed[address]
        assert record["error"] is None
    assert {r["Reason"] for r in records} == {"BOUNCE", "COMPLAINT"}


def test_suppressions_filters(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """--reason, --since and --until select exactly the addresses they name (bounds included)."""
    ses.seed_suppressions(REGION, 40)
    everything = audit(cli, ses, "suppressions", tmp_path / "all.ndjson")
    assert len(everything) == 40

    def addresses(records: Iterable[dict[str, Any]]) -> list[str]:
        return sorted(r["EmailAddress"] for r in records)

    for reason in ("BOUNCE", "COMPLAINT"):
        only = audit(cli, ses, "suppressions", tmp_path / f"{reason}.ndjson", "--reason", reason)
        expected = [r for r in everything if r["Reason"] == reason]
        assert 0 < len(expected) < 40
        assert addresses(only) == addresses(expected)
    both = audit(
        cli,
        ses,
        "suppressions",
        tmp_path / "b.ndjson",
        "--reason",
        "BOUNCE",
        "--reason",
        "COMPLAINT",
    )
    assert addresses(both) == addresses(everything)

    times = sorted(r["LastUpdateTime"] for r in everything)
    since, until = times[10], times[29]  # an address's own time: the bounds are inclusive
    newer = audit(cli, ses, "suppressions", tmp_path / "since.ndjson", "--since", since)
    assert addresses(newer) == addresses(r for r in everything if r["LastUpdateTime"] >= since)
    assert len(newer) == 30
    older = audit(cli, ses, "suppressions", tmp_path / "until.ndjson", "--until", until)
    assert addresses(older) == addresses(r for r in everything if r["LastUpdateTime"] <= until)
    assert len(older) == 30
    east = dt.timezone(dt.timedelta(hours=2))
    shifted = dt.datetime.fromisoformat(since).astimezone(east).isoformat()
    assert shifted.endswith("+02:00")
    same = audit(cli, ses, "suppressions", tmp_path / "east.ndjson", "--since", shifted)
    assert addresses(same) == addresses(newer)  # the same instant, written in another zone
    window = audit(
        cli,
        ses,
        "suppressions",
        tmp_path / "window.ndjson",
        "--since",
        since,
        "--until",
        until,
        "--reason",
        "BOUNCE",
    )
    assert addresses(window) == addresses(
        r for r in everything if since <= r["LastUpdateTime"] <= until and r["Reason"] == "BOUNCE"
    )
    refused = run(
        cli, ses.url, "suppressions", tmp_path / "x.ndjson", "--since", until, "--until", since
    )
    assert refused.code == 2
    assert "--since must not be after --until" in refused.err


def test_suppressions_details_add_attributes(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """--details adds each address's Attributes (message and feedback ids) from its lookup."""
    addresses = ses.seed_suppressions(REGION, 6)
    records = audit(cli, ses, "suppressions", tmp_path / "s.ndjson", "--details")
    assert ses.operation_calls["GetSuppressedDestination"] == 6
    assert sorted(r["EmailAddress"] for r in records) == addresses
    for record in records:
        found = plain(sesv2.get_suppressed_destination(EmailAddress=record["EmailAddress"]))
        assert record["Attributes"] == found["SuppressedDestination"]["Attributes"]
        assert set(record["Attributes"]) == {"MessageId", "FeedbackId"}
        assert record["error"] is None


def test_suppressions_listing_failing_part_way_then_resume(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """A page after the first failing: the first page's records, then a listing error record,
    exit 1; --resume through the same endpoint lists again and keeps each address once."""
    addresses = ses.seed_suppressions(REGION, 12)
    report = tmp_path / "s.ndjson"
    with FaultProxy(ses.url, Faults(error=1.0, match=r"NextToken=")) as proxy:
        first = run(
            cli, proxy.url, "suppressions", report, "--page-size", "5", "--max-attempts", "1"
        )
        assert first.code == 1
        records = read_ndjson(report)
        assert [r["type"] for r in records] == ["suppressed_destination"] * 5 + ["listing"]
        assert records[-1]["operation"] == "ListSuppressedDestinations"
        assert records[-1]["error"]["code"] == "InternalFailure"
        proxy.faults = Faults()
        second = run(cli, proxy.url, "suppressions", report, "--page-size", "5", "--resume")
        assert second.code == 0, second.err
    found = read_ndjson(report)
    assert sorted(r["EmailAddress"] for r in found) == addresses
    assert all(r["type"] == "suppressed_destination" and r["error"] is None for r in found)


def test_summary_of_suppressions_counts_reasons_and_months(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """summary of a suppression report counts by Reason and by month of LastUpdateTime."""
    ses.seed_suppressions(REGION, 60)
    report = tmp_path / "s.ndjson"
    records = audit(cli, ses, "suppressions", report)
    counts = summary_json(cli, report)["counts"]
    assert counts["Reason"] == dict(Counter(r["Reason"] for r in records))
    months = Counter(r["LastUpdateTime"][:7] for r in records)
    assert len(months) > 3  # spread over 400 days
    assert counts["LastUpdateTime.month"] == dict(months)


def kb(field: str) -> int:
    """A field of /proc/self/status, in kB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def test_suppressions_of_100000_addresses(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """100,000 suppressed addresses: one record each, streamed (the memory peak grows by far
    less than the records would take held in memory)."""
    addresses = ses.seed_suppressions(REGION, 100_000)
    report = tmp_path / "s.ndjson"
    warm = run(cli, ses.url, "suppressions", tmp_path / "warm.ndjson", "--until", "2000-01-01")
    assert warm.code == 0, warm.err  # everything imported and warm before measuring
    try:
        with open("/proc/self/clear_refs", "w") as refs:  # resets the peak (VmHWM)
            refs.write("5")
        measured = True
    except OSError:
        measured = False
    before = kb("VmRSS")
    result = run(cli, ses.url, "suppressions", report, "--page-size", "1000")
    growth_mb = (kb("VmHWM") - before) / 1024
    assert result.code == 0, result.err
    assert ses.operation_calls["ListSuppressedDestinations"] == 1 + 100
    lines = read_lines(report)
    assert (lines[-1]["type"], lines[-1]["records"]) == ("run_end", 100_000)
    seen = Counter(line.get("EmailAddress") for line in lines[1:-1])
    assert len(seen) == 100_000
    assert seen.most_common(1)[0][1] == 1
    assert seen.keys() == set(addresses)
    if measured:
        # Held in memory, 100,000 records take about 40 MB more; streamed, about 10.
        assert growth_mb < 25, f"memory peak grew by {growth_mb:.0f} MB"


# -- contact lists ---------------------------------------------------------------------------


def test_contact_lists_with_contacts_over_pages(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """--contacts: each contact of each list once, before its list's record; the lists with
    their topics; every listing paged by 2."""
    names = ses.seed_contact_lists(REGION, 5, 7)
    report = tmp_path / "c.ndjson"
    records = audit(cli, ses, "contact-lists", report, "--contacts", "--page-size", "2")
    assert ses.operation_calls["ListContactLists"] == 3
    assert ses.operation_calls["ListContacts"] == 5 * 4
    lists = {
        r["ContactListName"]: (at, r) for at, r in enumerate(records) if r["type"] == "contact_list"
    }
    contacts = [(at, r) for at, r in enumerate(records) if r["type"] == "contact"]
    assert sorted(lists) == names
    assert len(records) == 5 + 35
    seen = Counter((r["ContactListName"], r["EmailAddress"]) for _, r in contacts)
    assert max(seen.values()) == 1
    for name in names:
        at, record = lists[name]
        answer = plain(sesv2.get_contact_list(ContactListName=name))
        assert without(record, "type", "region", "error") == answer
        assert len(record["Topics"]) == (
            2 if name in ("contacts-0", "contacts-2", "contacts-4") else 3
        )
        listed = plain(sesv2.list_contacts(ContactListName=name, PageSize=1000)["Contacts"])
        mine = [(where, r) for where, r in contacts if r["ContactListName"] == name]
        assert sorted(
            (without(r, "type", "region", "error", "ContactListName") for _, r in mine),
            key=lambda c: c["EmailAddress"],
        ) == sorted(listed, key=lambda c: c["EmailAddress"])
        assert len(mine) == 7
        assert all(where < at for where, _ in mine), f"a contact of {name} after its list"


def test_contact_lists_without_contacts(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """Without --contacts: the list records only, and no ListContacts call."""
    names = ses.seed_contact_lists(REGION, 3, 4)
    records = audit(cli, ses, "contact-lists", tmp_path / "c.ndjson")
    assert [r["type"] for r in records] == ["contact_list"] * 3
    assert sorted(r["ContactListName"] for r in records) == names
    assert "ListContacts" not in ses.operation_calls


def test_summary_of_contact_lists_counts_contacts_per_list(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """summary of a contact-lists --contacts report counts the contacts of each list."""
    ses.seed_contact_lists(REGION, 2, 5)
    ses.seed_contact_lists(REGION, 1, 3, seed=1)  # contacts-0 again, now with 3 contacts
    report = tmp_path / "c.ndjson"
    audit(cli, ses, "contact-lists", report, "--contacts")
    summary = summary_json(cli, report)
    assert summary["counts"]["contacts per list"] == {"contacts-0": 3, "contacts-1": 5}
    assert summary["counts"]["type"] == {"contact_list": 2, "contact": 8}
    assert summary["warnings"] == []


def test_contacts_failing_part_way_mark_their_list(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """ListContacts failing for one list: that list's record carries the error, the other
    lists and their contacts are whole; exit 1."""
    ses.seed_contact_lists(REGION, 3, 3)
    fail_lookups(ses, "ListContacts", ContactListName="contacts-1")
    report = tmp_path / "c.ndjson"
    result = run(cli, ses.url, "contact-lists", report, "--contacts", "--max-attempts", "1")
    assert result.code == 1
    records = read_ndjson(report)
    lists = {r["ContactListName"]: r for r in records if r["type"] == "contact_list"}
    assert lists["contacts-1"]["error"]["operation"] == "ListContacts"
    assert lists["contacts-0"]["error"] is None and lists["contacts-2"]["error"] is None
    per_list = Counter(r["ContactListName"] for r in records if r["type"] == "contact")
    assert per_list == {"contacts-0": 3, "contacts-2": 3}


def test_contact_lists_resume_an_interrupted_run(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """--resume of a run cut off in the middle of a list's contacts: every contact once, and
    only the lists not finished are listed again."""
    ses.seed_contact_lists(REGION, 3, 4)
    report = tmp_path / "c.ndjson"
    args = ("--contacts", "--concurrency", "1")
    audit(cli, ses, "contact-lists", report, *args)
    kinds = [(str(r["type"]), str(r["ContactListName"])) for r in read_ndjson(report)]
    first_list_done = kinds.index(("contact_list", kinds[0][1])) + 1
    partial = tmp_path / ".c.ndjson.partial"
    lines = report.read_bytes().splitlines(keepends=True)
    partial.write_bytes(b"".join(lines[: 1 + first_list_done + 2]))  # and 2 of the next list
    report.unlink()
    listed: list[str] = []
    ses.before("ListContacts", lambda _a, _r, params: listed.append(params["ContactListName"]))
    result = run(cli, ses.url, "contact-lists", report, *args, "--resume")
    assert result.code == 0, result.err
    assert "kept from the resumed report" in result.err
    assert sorted(listed) == sorted({name for _, name in kinds} - {kinds[0][1]})
    records = read_ndjson(report)
    contacts = Counter(
        (r["ContactListName"], r["EmailAddress"]) for r in records if r["type"] == "contact"
    )
    assert len(contacts) == 12 and max(contacts.values()) == 1
    assert Counter(r["type"] for r in records) == {"contact": 12, "contact_list": 3}
    assert not partial.exists()


# -- templates -------------------------------------------------------------------------------


def test_templates_over_pages(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """Every email template and custom verification template once, with its content, over
    pages of 2."""
    names = ses.seed_templates(REGION, 5)
    custom = ses.seed_custom_verification_templates(REGION, 3)
    records = audit(cli, ses, "templates", tmp_path / "t.ndjson", "--page-size", "2")
    assert ses.operation_calls["ListEmailTemplates"] == 3
    assert ses.operation_calls["ListCustomVerificationEmailTemplates"] == 2
    emails = {r["TemplateName"]: r for r in records if r["type"] == "email_template"}
    verification = {
        r["TemplateName"]: r for r in records if r["type"] == "custom_verification_email_template"
    }
    assert len(records) == 8
    assert sorted(emails) == names and sorted(verification) == custom
    for i, name in enumerate(names):
        answer = plain(sesv2.get_email_template(TemplateName=name))
        assert emails[name]["TemplateContent"] == answer["TemplateContent"]
        assert emails[name]["TemplateContent"]["Subject"] == f"Hello {{{{name}}}} ({i})"
        assert emails[name]["CreatedTimestamp"].endswith("Z")
        assert emails[name]["error"] is None
    for name in custom:
        answer = plain(sesv2.get_custom_verification_email_template(TemplateName=name))
        assert without(verification[name], "type", "region", "error") == answer


def test_template_lookup_failing_gives_one_error_record(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """GetCustomVerificationEmailTemplate failing for one: its error record, the rest whole."""
    ses.seed_templates(REGION, 2)
    ses.seed_custom_verification_templates(REGION, 2)
    fail_lookups(ses, "GetCustomVerificationEmailTemplate", TemplateName="verification-000")
    report = tmp_path / "t.ndjson"
    result = run(cli, ses.url, "templates", report, "--max-attempts", "1")
    assert result.code == 1
    records = {(r["type"], r["TemplateName"]): r for r in read_ndjson(report)}
    assert len(records) == 4
    failed = records.pop(("custom_verification_email_template", "verification-000"))
    assert failed["error"]["operation"] == "GetCustomVerificationEmailTemplate"
    assert "TemplateContent" not in failed
    assert all(r["error"] is None and "TemplateContent" in r for r in records.values())


# -- every command: error records, then --resume ------------------------------------------


def seed_everything(ses: LocalSES) -> None:
    ses.set_account(REGION, production_access=False)
    ses.seed_configuration_sets(REGION, 4)
    ses.seed_suppressions(REGION, 5)
    ses.seed_contact_lists(REGION, 3, 2)
    ses.seed_templates(REGION, 3)
    ses.seed_custom_verification_templates(REGION, 1)


RESUMES = [
    pytest.param("account", (), "GetAccount", {}, 1, id="account"),
    pytest.param(
        "configuration-sets",
        (),
        "GetConfigurationSet",
        {"ConfigurationSetName": "configset-002"},
        4,
        id="configuration-sets",
    ),
    pytest.param(
        "suppressions",
        ("--details",),
        "GetSuppressedDestination",
        {"EmailAddress": "suppressed-0000003@example.com"},
        5,
        id="suppressions",
    ),
    pytest.param(
        "contact-lists",
        ("--contacts",),
        "GetContactList",
        {"ContactListName": "contacts-1"},
        3 + 6,
        id="contact-lists",
    ),
    pytest.param(
        "templates", (), "GetEmailTemplate", {"TemplateName": "template-001"}, 4, id="templates"
    ),
]


@pytest.mark.parametrize(("command", "extra", "lookup", "match", "records"), RESUMES)
def test_resume_fetches_only_the_failed_items(
    cli: Cli,
    ses: LocalSES,
    tmp_path: Path,
    command: str,
    extra: tuple[str, ...],
    lookup: str,
    match: dict[str, str],
    records: int,
) -> None:
    """A lookup failing makes one error record and exit 1; --resume then looks up that item
    only, and the report holds every item once, without errors."""
    seed_everything(ses)
    fail_lookups(ses, lookup, **match)
    report = tmp_path / "r.ndjson"
    first = run(cli, ses.url, command, report, *extra, "--max-attempts", "1")
    assert first.code == 1, first.err
    errors = [r for r in read_ndjson(report) if r["error"] is not None]
    assert [e["error"]["operation"] for e in errors] == [lookup]
    ses.before(lookup, None)
    lookups = ses.operation_calls[lookup]
    second = run(cli, ses.url, command, report, *extra, "--resume")
    assert second.code == 0, second.err
    assert ses.operation_calls[lookup] == lookups + 1
    found = read_ndjson(report)
    assert len(found) == records
    assert all(r["error"] is None for r in found)
    keys = Counter(asyncses.record_key(r) for r in found)
    assert max(keys.values()) == 1
    assert read_lines(report)[-1] == {"type": "run_end", "records": records, "errors": 0}


# -- the daily report and the demo ---------------------------------------------------------


@pytest.fixture(scope="module")
def daily_report() -> ModuleType:
    """scripts/daily-report loaded as a module (its ``main`` runs in this process)."""
    return load_script(DAILY_REPORT, "daily_report_resources")


def test_daily_report_of_three_resources(
    ses: LocalSES,
    tmp_path: Path,
    daily_report: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """daily-report --resources identities,account,configuration-sets: three reports and one
    Markdown that names (and explains) every finding of each, and every item with findings."""
    ses.seed_identities(REGION, 16)
    ses.set_account(REGION, production_access=False, sent_last_24_hours=190.0)
    ses.seed_configuration_sets(REGION, 6)
    folder = tmp_path / "daily"
    code = daily_report.main(
        [
            "--dir",
            str(folder),
            "--rate",
            "1000",
            "--resources",
            "identities,account,configuration-sets",
            "--region",
            REGION,
            "--endpoint-url",
            ses.url,
            "--date",
            "2024-05-01",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    resources = ("identities", "account", "configuration-sets")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
        [*(f"{name}-2024-05-01.ndjson" for name in resources), "report-2024-05-01.md"]
    )
    markdown = (folder / "report-2024-05-01.md").read_text()
    lines = markdown.splitlines()
    sections = markdown.split("\n## ")[1:]
    assert [section.split("\n", 1)[0] for section in sections] == list(resources)
    for name, section in zip(resources, sections, strict=True):
        records = read_ndjson(folder / f"{name}-2024-05-01.ndjson")
        assert records
        counts = Counter(code for r in records for code in r["findings"])
        assert counts, name
        for finding, count in counts.items():
            assert f"| {finding} | {count} | {FINDINGS[finding].why} |" in section, finding
        for record in records:
            if record["findings"]:
                item = record.get("IdentityName") or record.get("ConfigurationSetName")
                row = f"| {REGION} | {item or 'ses_account'} | {', '.join(record['findings'])} |"
                assert row in lines, row
    assert {"SANDBOX", "QUOTA_NEARLY_USED", "TLS_OPTIONAL", "NOT_VERIFIED"} <= {
        code for code in FINDINGS if code in markdown
    }


def test_demo_prints_account_configuration_sets_and_a_dry_run(tmp_path: Path) -> None:
    """asyncses demo (its own endpoint): the account and configuration-set summaries, and a
    dry-run line whose count matches the identities' DKIM_SIGNING_DISABLED findings."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncses",
            "demo",
            "--identities",
            "50",
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "account.ndjson: 1 record, 0 errors" in out
    assert "configuration-sets.ndjson: 8 records, 0 errors" in out
    account = read_ndjson(tmp_path / "account.ndjson")
    assert account[0]["findings"] == ["SANDBOX", "QUOTA_NEARLY_USED"]
    for code in ("SANDBOX", "QUOTA_NEARLY_USED"):
        assert re.search(rf"{code}\s+│\s+1\b", out), code
    sets = Counter(
        code for r in read_ndjson(tmp_path / "configuration-sets.ndjson") for code in r["findings"]
    )
    assert sets == Counter(code for i in range(8) for code in expected_set_findings(i))
    for code, count in sets.items():
        assert re.search(rf"{code}\s+│\s+{count}\b", out), code
    unsigned = sum(
        "DKIM_SIGNING_DISABLED" in r["findings"] and r["IdentityType"] == "DOMAIN"
        for r in read_ndjson(tmp_path / "identities.ndjson")
    )
    line = next(line for line in out.splitlines() if line.startswith("Plan enable-dkim-signing"))
    assert f": {unsigned} changes; dry run: {unsigned} would-apply." in line
    assert unsigned > 0
