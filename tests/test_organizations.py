"""Organizations, regions, shards and processes, against the embedded endpoint over real HTTP.

moto serves Organizations and STS on the endpoint's port: the runs here get
``AWS_ENDPOINT_URL=<ses.url>`` for those and ``--endpoint-url`` for SES. Accounts are listed
(ListAccounts, two pages), roles assumed (session ``asyncses``), unreachable accounts and
regions become one ``account`` record each, suspended accounts are skipped, the filters hold,
``--region all`` covers botocore's list, ``--shard`` and ``--jobs`` split whole units and
add up to the unsplit run, and assumed credentials refresh during a run.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import orjson
import pytest

import asyncses
from asyncses.cli import main
from asyncses.client import shard_of
from asyncses.local import DEFAULT_ACCOUNT, LocalSES, OrgInfo

from .faultproxy import FaultProxy, Faults
from .helpers import DAILY_REPORT, META_TYPES, REGION, ROOT, load_script, no_problems, read_lines

EU = "eu-west-1"
ROLE = "AuditRole"
#: No cautious start: the local endpoint has no quota to find.
FAST = ("--rate", "1000", "--no-progress")
#: Regions whose units of the management account fall in every shard of 2 and of 3 (pinned
#: below), so that every shard has items of its own, whatever ids moto gives the members.
SHARD_REGIONS = ("us-east-1", "eu-west-2", "ap-south-1")
#: Regions whose units of the management account go to both parts of ``--jobs 2``.
JOB_REGIONS = ("us-east-1", "ap-northeast-3")


@dataclasses.dataclass
class Run:
    """One audit run: its exit code, report lines and stderr."""

    code: int
    lines: list[dict[str, Any]]
    err: str

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records (run header and end left out)."""
        return [line for line in self.lines if line.get("type") not in META_TYPES]

    @property
    def header(self) -> dict[str, Any]:
        """The run header line."""
        assert self.lines and self.lines[0]["type"] == "run", self.lines[:1]
        return self.lines[0]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """The records of one type."""
        return [record for record in self.records if record["type"] == kind]

    def names(self) -> dict[tuple[str, str], set[str]]:
        """Identity names by (account, region)."""
        found: dict[tuple[str, str], set[str]] = {}
        for record in self.of_type("email_identity"):
            found.setdefault((record["account"], record["region"]), set()).add(
                record["IdentityName"]
            )
        return found


Audit = Callable[..., Run]


@pytest.fixture
def audit(
    ses: LocalSES,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> Audit:
    """Run ``asyncses COMMAND ARGS`` in this process against the endpoint (STS and
    Organizations through ``AWS_ENDPOINT_URL``); ``endpoint`` replaces the SES endpoint.
    Its stderr is captured at the file descriptor, so ``--jobs`` children's lines count."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", ses.url)
    count = 0

    def run(command: str, *args: str, endpoint: str | None = None) -> Run:
        nonlocal count
        count += 1
        out = tmp_path / f"report-{count}.ndjson"
        capfd.readouterr()
        code = main([command, *args, *FAST, "--endpoint-url", endpoint or ses.url, "-o", str(out)])
        err = capfd.readouterr().err
        return Run(code, read_lines(out) if out.exists() else [], err)

    return run


def organization(ses: LocalSES, *args: Any, **kwargs: Any) -> OrgInfo:
    """A fresh organization whose member roles are named ROLE."""
    return ses.create_organization(*args, role_name=ROLE, **kwargs)


def seed_everywhere(ses: LocalSES, accounts: Iterable[str], regions: Iterable[str]) -> None:
    """One identity per account and region, named after both."""
    for account in accounts:
        for region in regions:
            ses.set_identity(region, f"{account}.{region}.example.com", account_id=account)


def expected_names(
    accounts: Iterable[str], regions: Iterable[str]
) -> dict[tuple[str, str], set[str]]:
    """What :func:`seed_everywhere` seeded, as :meth:`Run.names` reads it."""
    return {
        (account, region): {f"{account}.{region}.example.com"}
        for account in accounts
        for region in regions
    }


def canonical(records: Iterable[dict[str, Any]]) -> Counter[bytes]:
    """Records as a multiset of canonical JSON (order of lines and keys ignored)."""
    return Counter(orjson.dumps(record, option=orjson.OPT_SORT_KEYS) for record in records)


def session_names(account: str) -> list[str]:
    """RoleSessionName of every AssumeRole into ``account``, as moto's STS recorded it."""
    from moto.sts.models import sts_backends

    return [role.session_name for role in sts_backends[account]["aws"].assumed_roles]


def external_ids(account: str) -> list[str | None]:
    """ExternalId of every AssumeRole into ``account``, as moto's STS recorded it."""
    from moto.sts.models import sts_backends

    return [role.external_id for role in sts_backends[account]["aws"].assumed_roles]


def child_processes() -> set[int]:
    """Pids of the live (or unreaped) child processes of this process (Linux /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid():
            found.add(int(entry.name))
    return found


def processes_with(marker: str) -> set[int]:
    """Pids of the processes whose environment holds ``marker`` (``NAME=VALUE``)."""
    found: set[int] = set()
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if needle in environ.split(b"\0") and state != "Z":
            found.add(int(entry.name))
    return found


@pytest.fixture
def short_credentials(ses: LocalSES) -> Iterator[LocalSES]:
    """AssumeRole hands out credentials that last just over botocore's 15-minute advisory
    refresh window: from a second after each AssumeRole, their next use refreshes them."""
    ses.sts_credential_lifetime = 15 * 60 + 1
    try:
        yield ses
    finally:
        ses.sts_credential_lifetime = None


# -- accounts and roles ----------------------------------------------------------------------


def test_accounts_listed_roles_assumed_records_carry_accounts(ses: LocalSES, audit: Audit) -> None:
    """Members via their role (once, session asyncses), management with its own keys, by account."""
    org = organization(ses, 2)
    first, second = org.member_accounts
    ses.set_identity(REGION, "mgmt.example.com")
    ses.set_identity(REGION, "first.example.com", account_id=first)
    ses.set_identity(EU, "first-eu.example.com", account_id=first)
    ses.set_identity(EU, "second-eu.example.com", account_id=second)

    run = audit("identities", "--org-role", ROLE, "--region", f"{REGION},{EU}")

    assert run.code == 0, run.err
    assert all(record.get("account") for record in run.records)
    assert run.names() == {
        (DEFAULT_ACCOUNT, REGION): {"mgmt.example.com"},
        (first, REGION): {"first.example.com"},
        (first, EU): {"first-eu.example.com"},
        (second, EU): {"second-eu.example.com"},
    }
    assert run.header["accounts"] == sorted([DEFAULT_ACCOUNT, first, second])
    # One AssumeRole per member for the whole run; none for the management account.
    assert ses.assume_role_calls == {org.role_arn(first): 1, org.role_arn(second): 1}
    assert session_names(first) == session_names(second) == ["asyncses"]
    assert session_names(DEFAULT_ACCOUNT) == []


def test_list_accounts_reads_every_page(ses: LocalSES, audit: Audit) -> None:
    """An account only ListAccounts' second page names is found and audited."""
    org = organization(ses, 100)  # 101 accounts: moto answers 100 per page
    organizations: Any = botocore.session.get_session().create_client(
        "organizations",
        endpoint_url=ses.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    page = organizations.list_accounts()
    on_first_page = {account["Id"] for account in page["Accounts"]}
    assert page.get("NextToken"), "moto no longer paginates ListAccounts: grow the organization"
    later = [account for account in org.member_accounts if account not in on_first_page]
    assert later, "every member is on the first page"
    early, late = org.member_accounts[0], later[-1]
    assert early in on_first_page
    ses.set_identity(REGION, "early.example.com", account_id=early)
    ses.set_identity(REGION, "late.example.com", account_id=late)

    run = audit(
        "identities", "--org-role", ROLE, "--region", REGION, "--org-accounts", f"{early},{late}"
    )

    assert run.code == 0, run.err
    assert run.names() == {
        (early, REGION): {"early.example.com"},
        (late, REGION): {"late.example.com"},
    }
    assert ses.assume_role_calls == {org.role_arn(early): 1, org.role_arn(late): 1}


def test_role_that_cannot_be_assumed_is_one_account_record(ses: LocalSES, audit: Audit) -> None:
    """A member without the role: one AccessDenied ``account`` record, the rest audited, exit 1."""
    org = organization(ses, 2, without_role=1)
    (denied,) = org.accounts_without_role
    members = [DEFAULT_ACCOUNT, *org.member_accounts]
    seed_everywhere(ses, members, [REGION])
    ses.set_identity(REGION, "unreachable.example.com", account_id=denied)

    run = audit("identities", "--org-role", ROLE, "--region", REGION)

    assert run.code == 1, run.err
    errors = run.of_type("account")
    assert len(errors) == 1, errors
    (error,) = errors
    assert error["account"] == denied
    assert error["error"]["code"] == "AccessDenied"
    assert error["error"]["operation"] == "AssumeRole"
    assert org.role_arn(denied) in error["error"]["message"]
    assert run.names() == expected_names(members, [REGION])
    assert [r for r in run.records if r.get("error") and r["type"] != "account"] == []
    assert ses.assume_role_calls[org.role_arn(denied)] == 1  # AccessDenied is not retried


def test_role_denied_with_empty_accounts_still_reports(ses: LocalSES, audit: Audit) -> None:
    """A denied role beside accounts without identities: exit 1 and its one ``account`` record."""
    org = organization(ses, 2, without_role=1)

    run = audit("identities", "--org-role", ROLE, "--region", REGION)

    assert run.code == 1, run.err
    assert [record["account"] for record in run.records] == org.accounts_without_role
    assert run.header["accounts"] == sorted([DEFAULT_ACCOUNT, *org.member_accounts])


def test_suspended_account_is_skipped(ses: LocalSES, audit: Audit) -> None:
    """A SUSPENDED member: no record, no AssumeRole, not in the run header."""
    org = organization(ses, 1, suspended=1)
    (suspended,) = org.suspended_accounts
    (member,) = org.member_accounts
    seed_everywhere(ses, [DEFAULT_ACCOUNT, member, suspended], [REGION])

    run = audit("identities", "--org-role", ROLE, "--region", REGION)

    assert run.code == 0, run.err
    assert run.names() == expected_names([DEFAULT_ACCOUNT, member], [REGION])
    assert suspended not in {record.get("account") for record in run.records}
    assert org.role_arn(suspended) not in ses.assume_role_calls
    assert ses.assume_role_calls == {org.role_arn(member): 1}
    assert suspended not in run.header["accounts"]


def test_org_accounts_and_org_exclude_filter(ses: LocalSES, audit: Audit) -> None:
    """--org-accounts and --org-exclude pick the accounts audited and the roles assumed."""
    org = organization(ses, 3)
    first, second, third = org.member_accounts
    everyone = [DEFAULT_ACCOUNT, first, second, third]
    seed_everywhere(ses, everyone, [REGION])

    only = audit(
        "identities", "--org-role", ROLE, "--region", REGION, "--org-accounts", f"{first},{third}"
    )
    assert only.code == 0, only.err
    assert only.names() == expected_names([first, third], [REGION])
    assert ses.assume_role_calls == {org.role_arn(first): 1, org.role_arn(third): 1}

    ses.assume_role_calls.clear()
    without = audit(
        "identities",
        "--org-role",
        ROLE,
        "--region",
        REGION,
        "--org-exclude",
        f"{second},{DEFAULT_ACCOUNT}",
    )
    assert without.code == 0, without.err
    assert without.names() == expected_names([first, third], [REGION])
    assert set(ses.assume_role_calls) == {org.role_arn(first), org.role_arn(third)}

    both = audit(
        "identities",
        "--org-role",
        ROLE,
        "--region",
        REGION,
        "--org-accounts",
        f"{first},{second}",
        "--org-exclude",
        second,
    )
    assert both.code == 0, both.err
    assert both.names() == expected_names([first], [REGION])


def test_org_external_id_reaches_sts(ses: LocalSES, audit: Audit) -> None:
    """--org-external-id is sent as AssumeRole's ExternalId."""
    org = organization(ses, 1)
    (member,) = org.member_accounts
    seed_everywhere(ses, [member], [REGION])

    run = audit(
        "identities", "--org-role", ROLE, "--region", REGION, "--org-external-id", "ext-4242"
    )

    assert run.code == 0, run.err
    assert run.names() == expected_names([member], [REGION])
    assert external_ids(member) == ["ext-4242"]


# -- regions ---------------------------------------------------------------------------------


def test_region_all_audits_every_ses_region_of_every_account(ses: LocalSES, audit: Audit) -> None:
    """--region all: one unit per account and region of botocore's sesv2 list, each once."""
    org = organization(ses, 1)
    (member,) = org.member_accounts
    regions = botocore.session.get_session().get_available_regions("sesv2", partition_name="aws")
    assert len(regions) > 10

    run = audit("account", "--org-role", ROLE, "--region", "all")

    assert run.code == 0, run.err
    units = Counter((record["account"], record["region"]) for record in run.of_type("ses_account"))
    assert set(units) == {(a, r) for a in (DEFAULT_ACCOUNT, member) for r in regions}
    assert set(units.values()) == {1}
    assert len(run.records) == 2 * len(regions)
    assert run.header["regions"] == sorted(regions)


def test_region_not_enabled_is_one_account_record(ses: LocalSES, audit: Audit) -> None:
    """A region an account has not enabled: one ``account`` record for it, the rest audited."""
    org = organization(ses, 2)
    first, second = org.member_accounts
    everyone = [DEFAULT_ACCOUNT, first, second]
    seed_everywhere(ses, everyone, [REGION, EU])
    ses.disable_region(first, EU)

    run = audit("identities", "--org-role", ROLE, "--region", f"{REGION},{EU}")

    assert run.code == 1, run.err
    errors = run.of_type("account")
    assert [(e["account"], e["region"]) for e in errors] == [(first, EU)]
    assert errors[0]["error"]["code"] == "UnrecognizedClientException"
    expected = expected_names(everyone, [REGION, EU])
    del expected[(first, EU)]
    assert run.names() == expected
    assert [r for r in run.records if r.get("error") and r["type"] != "account"] == []


def test_region_not_enabled_in_account_report_is_one_account_record(
    ses: LocalSES, audit: Audit
) -> None:
    """``asyncses account`` in a region not enabled gives the same one ``account`` record."""
    org = organization(ses, 1)
    (member,) = org.member_accounts
    ses.disable_region(member, EU)

    run = audit("account", "--org-role", ROLE, "--region", f"{REGION},{EU}")

    assert run.code == 1, run.err
    errors = [record for record in run.records if record.get("error")]
    assert [(e["type"], e["account"], e["region"]) for e in errors] == [("account", member, EU)]


# -- shards and processes --------------------------------------------------------------------


def test_shard_of_is_stable() -> None:
    """shard_of is a fixed hash of account and region, the same on every machine."""
    assert shard_of(DEFAULT_ACCOUNT, "us-east-1", 2) == 1
    assert shard_of(DEFAULT_ACCOUNT, "us-east-1", 3) == 1
    assert shard_of(None, "eu-west-1", 3) == 0
    assert shard_of("111122223333", "ap-south-1", 8) == 3
    # The premises of the shard tests below.
    for n in (2, 3):
        assert {shard_of(DEFAULT_ACCOUNT, r, n) for r in SHARD_REGIONS} == set(range(n))


async def test_jobs_deal_the_units_in_equal_shares(ses: LocalSES) -> None:
    """The processes of --jobs N take every N-th unit of the sorted list: equal shares,
    each unit in exactly one (a hash could give one process all of them)."""
    regions = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
    for region in regions:
        ses.set_identity(region, f"{region}.example.com")
    shares: list[set[str]] = []
    for job in range(3):
        async with asyncses.Client(
            regions=regions, endpoint_url=ses.url, rate=1000, job=(job, 3)
        ) as client:
            records = no_problems([r async for r in client.email_identities()])
        shares.append({r["region"] for r in records})
    assert [len(share) for share in shares] == [2, 2, 2]
    assert set().union(*shares) == set(regions)
    assert sum(len(share) for share in shares) == len(regions)


@pytest.mark.parametrize("shards", [2, 3])
def test_shards_add_up_to_the_whole_run(ses: LocalSES, audit: Audit, shards: int) -> None:
    """The --shard K/N reports hold the unsharded report's records, each in exactly one shard."""
    org = organization(ses, 2, without_role=1)
    (denied,) = org.accounts_without_role
    members = [DEFAULT_ACCOUNT, *org.member_accounts]
    seed_everywhere(ses, members, SHARD_REGIONS)
    regions = ",".join(SHARD_REGIONS)

    whole = audit("identities", "--org-role", ROLE, "--region", regions)
    assert whole.code == 1, whole.err
    assert whole.names() == expected_names(members, SHARD_REGIONS)
    assert [e["account"] for e in whole.of_type("account")] == [denied]

    parts = [
        audit("identities", "--org-role", ROLE, "--region", regions, "--shard", f"{k}/{shards}")
        for k in range(shards)
    ]

    total: Counter[bytes] = Counter()
    for k, part in enumerate(parts):
        has_error = any(record.get("error") for record in part.records)
        assert part.code == (1 if has_error else 0), part.err
        assert part.records, f"shard {k} has no records"
        assert part.header["shard"] == f"{k}/{shards}"
        for record in part.records:
            unit_region = record["region"] or ""  # a denied account has no region
            assert shard_of(record["account"], unit_region, shards) == k, record
        total += canonical(part.records)
    assert total == canonical(whole.records)
    assert sum(len(part.records) for part in parts) == len(whole.records)


def test_jobs_give_the_same_records_and_leave_no_process(ses: LocalSES, audit: Audit) -> None:
    """--jobs 2 gives --jobs 1's records and exit code, and leaves no child process behind."""
    org = organization(ses, 2, without_role=1)
    members = [DEFAULT_ACCOUNT, *org.member_accounts]
    seed_everywhere(ses, members, JOB_REGIONS)
    regions = ",".join(JOB_REGIONS)
    before = child_processes()
    during: set[int] = set()

    one = audit("identities", "--org-role", ROLE, "--region", regions, "--jobs", "1")
    calls_one = dict(ses.assume_role_calls)
    ses.assume_role_calls.clear()
    # Runs in the endpoint's thread while a child lists: the children are visible then.
    ses.before("ListEmailIdentities", lambda *_: during.update(child_processes()))
    two = audit("identities", "--org-role", ROLE, "--region", regions, "--jobs", "2")

    assert one.code == two.code == 1, (one.err, two.err)
    assert one.names() == expected_names(members, JOB_REGIONS)
    assert canonical(two.records) == canonical(one.records)
    assert len(two.of_type("account")) == 1
    assert len(during - before) == 2  # two children were running...
    assert child_processes() <= before  # ...and none is left
    # One summary line, the parent's: the children say nothing on stderr of their own.
    summaries = [line for line in two.err.splitlines() if " records, " in line]
    assert len(summaries) == 1, two.err
    # The children assumed the roles themselves: more AssumeRole calls than one process.
    role = org.role_arn(org.member_accounts[0])
    assert ses.assume_role_calls[role] > calls_one[role]


def test_interrupted_jobs_leave_no_process(ses: LocalSES, tmp_path: Path) -> None:
    """SIGTERM to a --jobs run mid-audit: exit 143, no report, none of its processes left."""
    org = organization(ses, 2)
    members = [DEFAULT_ACCOUNT, *org.member_accounts]
    for account in members:
        for region in JOB_REGIONS:
            for i in range(4):
                ses.set_identity(region, f"{account}-{i}.example.com", account_id=account)
    name, value = "ASYNCSES_TEST_RUN", str(uuid.uuid4())
    marker = f"{name}={value}"
    lookups = threading.Event()
    ses.before("GetEmailIdentity", lambda *_: lookups.set())
    report = tmp_path / "report.ndjson"
    env = {**os.environ, "AWS_ENDPOINT_URL": ses.url, name: value}

    with FaultProxy(ses.url, Faults(latency=0.3)) as proxy:
        command = ["identities", "--org-role", ROLE, "--region", ",".join(JOB_REGIONS)]
        command += ["--jobs", "2", "--concurrency", "1", *FAST]
        command += ["--endpoint-url", proxy.url, "-o", str(report)]
        process = subprocess.Popen(
            [sys.executable, "-m", "asyncses", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert lookups.wait(30), "the children never looked an identity up"
            running = processes_with(marker)
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert process.returncode == 143, err
    assert len(running) == 3, running  # the parent and its two children were running
    assert processes_with(marker) == set()
    assert not report.exists()


def test_jobs_with_resume_is_refused(ses: LocalSES, audit: Audit, tmp_path: Path) -> None:
    """--jobs with --resume exits 2 before any call, naming both flags."""
    organization(ses, 1)
    run = audit("identities", "--org-role", ROLE, "--region", REGION, "--jobs", "2", "--resume")
    assert run.code == 2
    assert "--resume" in run.err and "--jobs" in run.err
    assert run.lines == []
    assert ses.assume_role_calls == {}


# -- credentials -----------------------------------------------------------------------------


def test_assumed_credentials_refresh_during_a_run(
    short_credentials: LocalSES, audit: Audit
) -> None:
    """Role credentials nearing expiry mid-run are refreshed by AssumeRole; no call fails."""
    ses = short_credentials
    org = organization(ses, 1)
    (member,) = org.member_accounts
    names = [f"slow-{i}.example.com" for i in range(8)]
    for name in names:
        ses.set_identity(REGION, name, account_id=member)

    # Every SES request waits 0.3 s and they go one at a time: the run lasts about 3 s.
    with FaultProxy(ses.url, Faults(latency=0.3)) as proxy:
        run = audit(
            "identities",
            "--org-role",
            ROLE,
            "--region",
            REGION,
            "--org-accounts",
            member,
            "--concurrency",
            "1",
            endpoint=proxy.url,
        )
        assert proxy.stats.forwarded >= len(names) + 1

    assert run.code == 0, run.err
    assert run.names() == {(member, REGION): set(names)}
    assert [record for record in run.records if record.get("error")] == []
    assert ses.assume_role_calls[org.role_arn(member)] > 1


def test_two_profiles_of_one_account_are_audited_once(
    ses: LocalSES, audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two profiles with keys of the same account: audited once, with a warning on stderr."""
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile alpha]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n"
        "[profile beta]\naws_access_key_id = another\naws_secret_access_key = another\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    seed_everywhere(ses, [DEFAULT_ACCOUNT], [REGION])

    run = audit("identities", "--profile", "alpha,beta", "--region", REGION)

    assert run.code == 0, run.err
    assert "profiles 'alpha' and 'beta' are the same account; audited once" in run.err
    assert len(run.records) == 1
    assert run.names() == expected_names([DEFAULT_ACCOUNT], [REGION])


# -- the scheduled report and the library ----------------------------------------------------


@pytest.fixture(scope="module")
def daily_report() -> ModuleType:
    """scripts/daily-report loaded as a module."""
    return load_script(DAILY_REPORT, "daily_report_org")


def test_daily_report_with_org_role(
    ses: LocalSES,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    daily_report: ModuleType,
) -> None:
    """daily-report --org-role audits every account of the organization into its report."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", ses.url)
    org = organization(ses, 2)
    everyone = [DEFAULT_ACCOUNT, *org.member_accounts]
    seed_everywhere(ses, everyone, [REGION])
    folder = tmp_path / "daily"

    code = daily_report.main(
        [
            "--dir",
            str(folder),
            "--org-role",
            ROLE,
            "--region",
            REGION,
            "--endpoint-url",
            ses.url,
            "--resources",
            "identities",
            "--date",
            "2024-05-01",
            "--rate",
            "1000",
        ]
    )

    err = capsys.readouterr().err
    assert code == 0, err
    lines = read_lines(folder / "identities-2024-05-01.ndjson")
    records = [line for line in lines if line["type"] not in META_TYPES]
    assert {(r["account"], r["IdentityName"]) for r in records} == {
        (account, f"{account}.{REGION}.example.com") for account in everyone
    }
    assert "## identities" in (folder / "report-2024-05-01.md").read_text()
    assert ses.assume_role_calls == {org.role_arn(a): 1 for a in org.member_accounts}


async def test_library_client_with_org_role(ses: LocalSES, monkeypatch: pytest.MonkeyPatch) -> None:
    """Client(org_role=...) lists the organization's accounts and yields their records."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", ses.url)
    org = organization(ses, 2, suspended=1)
    everyone = [DEFAULT_ACCOUNT, *org.member_accounts]
    seed_everywhere(ses, [*everyone, *org.suspended_accounts], [REGION, EU])

    async with asyncses.Client(
        org_role=ROLE, regions=[REGION, EU], endpoint_url=ses.url, rate=1000
    ) as client:
        assert sorted(a or "" for a in client.accounts) == sorted(everyone)
        assert client.regions == [REGION, EU]
        records = no_problems([record async for record in client.email_identities()])

    assert {(r.get("account"), r["region"], r["IdentityName"]) for r in records} == {
        (account, region, f"{account}.{region}.example.com")
        for account in everyone
        for region in (REGION, EU)
    }
    assert len(records) == len(everyone) * 2
    assert all(record["error"] is None for record in records)


def test_apply_across_an_organization_with_a_denied_role(
    ses: LocalSES, audit: Audit, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A plan for the reachable accounts applies with --org-role while another member's role
    is denied (that account has no change here: no record of it in the outcomes); a change
    for the denied account is refused before any call, saying why."""
    org = organization(ses, 2, without_role=1)
    (denied,) = org.accounts_without_role
    members = [DEFAULT_ACCOUNT, *org.member_accounts]
    seed_everywhere(ses, members, [REGION])
    report = tmp_path / "ids.ndjson"
    run = audit("identities", "--org-role", ROLE, "--region", REGION)
    assert run.code == 1, run.err  # the denied account's record
    report.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in run.lines))

    plan = tmp_path / "tag.plan"
    assert main(["plan", "tag", "team=mail", "--from", str(report), "-o", str(plan)]) == 0
    outcomes = tmp_path / "out.ndjson"
    code = main(
        ["apply", str(plan), "--org-role", ROLE, "--endpoint-url", ses.url, "-o", str(outcomes)]
    )
    err = capfd.readouterr().err
    assert code == 0, err
    records = [r for r in read_lines(outcomes) if r["type"] not in ("run", "run_end")]
    assert {r["type"] for r in records} == {"outcome"}
    assert sorted((r["account"], r["status"]) for r in records) == sorted(
        (account, "applied") for account in members
    )

    elsewhere = tmp_path / "denied.ndjson"
    record = {
        "type": "email_identity",
        "region": REGION,
        "account": denied,
        "IdentityName": "x.example.com",
        "IdentityType": "DOMAIN",
        "error": None,
    }
    elsewhere.write_bytes(orjson.dumps(record) + b"\n")
    bad = tmp_path / "denied.plan"
    assert main(["plan", "tag", "team=mail", "--from", str(elsewhere), "-o", str(bad)]) == 0
    requests = sum(ses.operation_calls.values())
    code = main(["apply", str(bad), "--org-role", ROLE, "--endpoint-url", ses.url])
    err = capfd.readouterr().err
    assert code == 2
    assert f"account {denied}, which could not be reached: AssumeRole" in err
    assert sum(ses.operation_calls.values()) == requests  # no SES call
