"""The ``asyncses`` argument parser, and the option groups other scripts reuse.

``scripts/daily-report`` builds its parser from :func:`add_aws_options`,
:func:`add_engine_options` and :func:`settings_from`, so both take the same flags the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .._version import __version__
from ..changes.actions import ACTIONS
from ..reports.findings import FINDINGS
from ..ses import operations as ops
from ..settings import MAX_CONCURRENCY, Settings
from .exits import EXIT_CODES, EXIT_CODES_HELP, USAGE
from .logs import LOG_LEVELS

__all__ = [
    "Parser",
    "add_aws_options",
    "add_engine_options",
    "build_parser",
    "csv",
    "finding",
    "settings_from",
    "whole",
]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def whole(name: str, low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` (to ``high``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, not {text!r}"
            ) from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{name} must be {span}, not {value}")
        return value

    return parse


def rate(text: str) -> float:
    """An argparse type: a positive, finite number of requests per second."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"rate must be a number, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"rate must be a positive number, not {text}")
    return value


def csv(text: str) -> list[str]:
    """An argparse type: a comma-separated list of names (at least one)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"nothing named in {text!r}")
    return parts


def shard(text: str) -> tuple[int, int]:
    """An argparse type: ``K/N`` with ``0 <= K < N``."""
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"shard must be K/N, not {text!r}") from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"shard {text}: K must be from 0 to N-1")
    return k, n


def finding(text: str) -> str:
    """An argparse type: a finding code."""
    code = text.strip().upper()
    if code not in FINDINGS:
        raise argparse.ArgumentTypeError(
            f"unknown finding {text!r}: use one of {', '.join(FINDINGS)}"
        )
    return code


def finding_of(record_type: str, what: str) -> Callable[[str], str]:
    """An argparse type: a finding code that records of ``record_type`` can carry."""
    codes = [code for code, f in FINDINGS.items() if record_type in f.types]

    def parse(text: str) -> str:
        code = finding(text)
        if code not in codes:
            raise argparse.ArgumentTypeError(
                f"{what} records never have finding {code}: use one of {', '.join(codes)}"
            )
        return code

    parse.__name__ = "finding"  # argparse names the type in its messages
    return parse


def add_aws_options(parser: argparse.ArgumentParser, *, single: bool = False) -> None:
    """``--region``, ``--profile``, ``--endpoint-url`` (one of each when ``single``)."""
    group = parser.add_argument_group("AWS")
    if single:
        group.add_argument("--region", metavar="REGION", help="region (default: AWS_REGION)")
        group.add_argument("--profile", metavar="PROFILE", help="AWS profile")
    else:
        group.add_argument(
            "--region",
            action="append",
            type=csv,
            metavar="REGION",
            help="region to audit; repeat or give a comma list; 'all' for every SES region "
            "(default: AWS_REGION or the profile's)",
        )
        group.add_argument(
            "--profile",
            action="append",
            type=csv,
            metavar="PROFILE",
            help="AWS profile, one account each; repeat or give a comma list "
            "(records then carry 'account'; profiles of one account are audited once)",
        )
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="SES endpoint (or AWS_ENDPOINT_URL_SESV2); STS and other services keep "
        "AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL",
    )
    if single:
        return
    group = parser.add_argument_group("organization")
    group.add_argument(
        "--org-role",
        metavar="ROLE",
        help="audit every ACTIVE account of the AWS Organization by assuming this role "
        "(a name) in each; run with the management or a delegated administrator account",
    )
    group.add_argument("--org-external-id", metavar="ID", help="ExternalId for --org-role")
    group.add_argument(
        "--org-accounts", type=csv, metavar="ID,...", help="only these accounts of the organization"
    )
    group.add_argument(
        "--org-exclude", type=csv, metavar="ID,...", help="not these accounts of the organization"
    )
    group = parser.add_argument_group("scale")
    group.add_argument(
        "--shard",
        type=shard,
        metavar="K/N",
        help="audit only shard K (0 to N-1) of the accounts x regions; N copies on N machines "
        "cover everything once (e.g. --shard $AWS_BATCH_JOB_ARRAY_INDEX/8)",
    )
    group.add_argument(
        "--jobs",
        type=whole("jobs", 1, 64),
        default=1,
        metavar="N",
        help="run the accounts x regions in N local processes, whole units each (default 1)",
    )


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """Concurrency, pacing, retries, page size."""
    defaults = Settings()
    group = parser.add_argument_group("engine")
    group.add_argument(
        "--concurrency",
        type=whole("concurrency", 1, MAX_CONCURRENCY),
        default=defaults.concurrency,
        metavar="N",
        help=f"requests in flight per account and region (default {defaults.concurrency})",
    )
    group.add_argument(
        "--rate",
        type=rate,
        metavar="R",
        help="a fixed pace, requests/s per account and region "
        "(default: find each quota from its 429s)",
    )
    group.add_argument(
        "--max-attempts",
        type=whole("max attempts", 1, 100),
        default=defaults.max_attempts,
        metavar="N",
        help="tries per call on 5xx, connection errors and timeouts; throttles wait for "
        f"the pace and do not count (default {defaults.max_attempts})",
    )
    group.add_argument(
        "--page-size",
        type=whole("page size", 1, ops.MAX_PAGE_SIZE),
        default=defaults.page_size,
        metavar="N",
        help=f"PageSize of list calls (default {defaults.page_size})",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "-o", "--output", default="-", metavar="PATH", help="NDJSON report; '-' for stdout"
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="finish the report at --output: keep its records fetched without error "
        "(or those of an interrupted run), fetch the rest",
    )
    _add_log_options(parser, progress=True)


def _add_log_options(parser: argparse.ArgumentParser, *, progress: bool = False) -> None:
    group = parser.add_argument_group("logging")
    group.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="warning",
        type=str.lower,
        help="log events at this level and above to stderr (default warning)",
    )
    if progress:
        group.add_argument(
            "--no-progress", action="store_true", help="no progress bar, even on a terminal"
        )


def settings_from(args: argparse.Namespace) -> Settings:
    """The run's :class:`Settings` from parsed options (validated there)."""
    regions = args.region if isinstance(args.region, str) else _flat(args.region)
    profiles = args.profile if isinstance(args.profile, str) else _flat(args.profile)
    fields: dict[str, Any] = {
        "regions": regions or (),
        "profiles": profiles or (),
        "endpoint_url": args.endpoint_url,
    }
    for name in (
        "concurrency",
        "rate",
        "max_attempts",
        "page_size",
        "org_role",
        "org_external_id",
        "shard",
    ):
        if getattr(args, name, None) is not None:
            fields[name] = getattr(args, name)
    for name in ("org_accounts", "org_exclude"):
        if getattr(args, name, None):
            fields[name] = tuple(getattr(args, name))
    return Settings(**fields)


def _flat(groups: Sequence[Sequence[str]] | None) -> list[str]:
    return [item for group in groups or () for item in group]


def _add_fail_on(group: Any, what: str) -> None:
    record_type = {"identity": "email_identity", "configuration set": "configuration_set"}.get(
        what, "ses_account"
    )
    codes = [code for code, f in FINDINGS.items() if record_type in f.types]
    group.add_argument(
        "--fail-on",
        action="append",
        type=finding_of(record_type, what),
        default=[],
        metavar="CODE",
        help=f"exit 1 if any {what} has this finding; repeat for several ({', '.join(codes)})",
    )


def share(text: str) -> float:
    """An argparse type: a number above 0 and at most 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, not {text}")
    return value


def when(text: str) -> str:
    """An argparse type: an ISO 8601 date or time (UTC unless it says otherwise)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS): {text!r}"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def _command(
    sub: Any, name: str, summary: str, description: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, 88),
        epilog=f"{epilog}\n\n{EXIT_CODES.get(name, EXIT_CODES_HELP)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> Parser:
    """The ``asyncses`` argument parser."""
    parser = Parser(
        prog="asyncses",
        description="Concurrent, quota-paced audits of Amazon SES v2 accounts, as NDJSON.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"asyncses {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    p = _command(
        sub,
        "identities",
        "audit every email identity",
        "Lists every email identity (ListEmailIdentities) and looks each one up "
        "(GetEmailIdentity): one NDJSON record per identity with its verification, DKIM, "
        "MAIL FROM, policies, tags and findings. With --list-only it makes no lookups "
        "(one call per 1,000 identities) and checks only what the list shows.",
        [
            "asyncses identities --region eu-west-1 -o identities.ndjson",
            "asyncses identities --region all --profile prod,staging --fail-on PUBLIC_POLICY",
            "asyncses identities -o identities.ndjson --resume",
        ],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)
    group = p.add_argument_group("identities")
    group.add_argument("--list-only", action="store_true", help="list fields only, no lookups")
    _add_fail_on(group, "identity")

    p = _command(
        sub,
        "pools",
        "audit every dedicated IP pool",
        "Lists every dedicated IP pool (ListDedicatedIpPools) and looks each one up "
        "(GetDedicatedIpPool) for its ScalingMode; with --with-ips, adds its dedicated IPs "
        "and their warm-up state (GetDedicatedIps).",
        ["asyncses pools --region us-east-1 --with-ips -o pools.ndjson"],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)
    p.add_argument_group("pools").add_argument(
        "--with-ips", action="store_true", help="add each pool's dedicated IPs"
    )

    p = _command(
        sub,
        "import-jobs",
        "report every import job",
        "Lists every import job (ListImportJobs) with its status and record counts; "
        "--details adds GetImportJob's data source, failure info and completion time.",
        ["asyncses import-jobs --destination-type SUPPRESSION_LIST --details"],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)
    group = p.add_argument_group("import jobs")
    group.add_argument("--destination-type", choices=ops.IMPORT_DESTINATION_TYPES, type=str.upper)
    group.add_argument("--details", action="store_true", help="add GetImportJob fields")

    p = _command(
        sub,
        "account",
        "the account's SES standing in each region",
        "Calls GetAccount in every account and region: production access (or the sandbox), "
        "sending enabled, enforcement status, the send quota and what was sent in the last "
        "24 hours, suppression and VDM settings. Findings: SANDBOX, SENDING_PAUSED, "
        "ENFORCEMENT_PROBATION, ENFORCEMENT_SHUTDOWN, QUOTA_NEARLY_USED.",
        [
            "asyncses account --region all",
            "asyncses account --org-role AuditRole --region all --fail-on SANDBOX",
        ],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)
    group = p.add_argument_group("account")
    group.add_argument(
        "--quota-threshold",
        type=share,
        default=0.8,
        metavar="SHARE",
        help="QUOTA_NEARLY_USED from this share of the daily quota on (default 0.8)",
    )
    _add_fail_on(group, "account")

    p = _command(
        sub,
        "configuration-sets",
        "audit every configuration set",
        "Lists every configuration set (ListConfigurationSets) and looks each up "
        "(GetConfigurationSet, GetConfigurationSetEventDestinations). Findings: "
        "NO_BOUNCE_COMPLAINT_DESTINATION, TLS_OPTIONAL, REPUTATION_METRICS_OFF, "
        "SENDING_DISABLED.",
        ["asyncses configuration-sets --region eu-west-1 -o configuration-sets.ndjson"],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)
    _add_fail_on(p.add_argument_group("configuration sets"), "configuration set")

    p = _command(
        sub,
        "suppressions",
        "export the suppression list",
        "Lists the account's suppression list (ListSuppressedDestinations), one record per "
        "address, in constant memory however long it is; filter by reason and by when the "
        "address was last updated. --details adds GetSuppressedDestination (the message "
        "and feedback ids) per address.",
        [
            "asyncses suppressions --region us-east-1 -o suppressions.ndjson",
            "asyncses suppressions --reason COMPLAINT --since 2026-01-01",
        ],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)
    group = p.add_argument_group("suppressions")
    group.add_argument(
        "--reason",
        action="append",
        choices=ops.SUPPRESSION_REASONS,
        type=str.upper,
        default=[],
        help="only this reason; repeat for both",
    )
    group.add_argument("--since", type=when, metavar="TIME", help="last updated at or after")
    group.add_argument("--until", type=when, metavar="TIME", help="last updated at or before")
    group.add_argument("--details", action="store_true", help="add GetSuppressedDestination")

    p = _command(
        sub,
        "contact-lists",
        "report every contact list",
        "Lists every contact list (ListContactLists) with its topics (GetContactList); "
        "--contacts adds one record per contact of each list (ListContacts, paginated).",
        ["asyncses contact-lists --contacts -o contacts.ndjson"],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)
    p.add_argument_group("contact lists").add_argument(
        "--contacts", action="store_true", help="add every contact of each list"
    )

    p = _command(
        sub,
        "templates",
        "report every template",
        "Lists every email template (ListEmailTemplates, GetEmailTemplate) and every "
        "custom verification email template.",
        ["asyncses templates --region us-east-1"],
    )
    add_aws_options(p)
    add_engine_options(p)
    _add_output_options(p)

    p = _command(
        sub,
        "create-pool",
        "create a dedicated IP pool",
        "Creates a dedicated IP pool and prints it, as GetDedicatedIpPool shows it, as one "
        "JSON line. The name, scaling mode and tags are checked against SES's rules before "
        "any call; a pool that exists already exits 1.",
        ["asyncses create-pool outbound --scaling-mode MANAGED --tag team=mail"],
    )
    p.add_argument("name", metavar="NAME")
    add_aws_options(p, single=True)
    group = p.add_argument_group("pool")
    group.add_argument(
        "--scaling-mode", default="STANDARD", metavar="MODE", help="STANDARD or MANAGED"
    )
    group.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="a tag; repeat"
    )
    _add_log_options(p)

    p = _command(
        sub,
        "plan",
        "plan bulk changes from reports",
        "Writes one change per item of the reports that ACTION applies to (and that every "
        "--where selects): the exact SES v2 call, what the item looked like (the "
        "precondition) and a stable id, as NDJSON to review, keep in git and apply. "
        "Actions: " + ", ".join(f"{a.usage} ({a.summary})" for a in ACTIONS.values()) + ".",
        [
            "asyncses plan enable-dkim-signing --from ids.ndjson -o dkim.plan",
            "asyncses plan tag team=mail --from identities.ndjson --where IdentityType=DOMAIN",
            "asyncses plan set-mail-from 'mail.{domain}' --from ids.ndjson --where NOT_VERIFIED",
            "asyncses plan move-ip warm --from pools.ndjson --where PoolName=cold",
        ],
    )
    p.add_argument("action", metavar="ACTION", choices=list(ACTIONS))
    p.add_argument("arguments", nargs="*", metavar="ARG", help="the action's arguments")
    p.add_argument(
        "--from",
        dest="reports",
        action="append",
        required=True,
        metavar="REPORT",
        help="a report to plan from; repeat for several ('-' for stdin)",
    )
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COND",
        help="only records with this finding, or FIELD=VALUE / FIELD!=VALUE (a dotted path); "
        "repeat: all must hold",
    )
    p.add_argument(
        "--behavior-on-mx-failure",
        choices=("USE_DEFAULT_VALUE", "REJECT_MESSAGE"),
        type=str.upper,
        help="set-mail-from: what SES does when the MX record is missing",
    )
    p.add_argument("-o", "--output", default="-", metavar="PLAN", help="the plan ('-': stdout)")

    p = _command(
        sub,
        "apply",
        "apply a plan at the quota",
        "Checks the whole plan first (nothing is sent if a line is wrong). Then, for each "
        "change, re-reads the item: the target state holds already -> already; the item "
        "changed since the plan -> drifted (nothing changed); else the call is made -> "
        "applied or failed. --dry-run does the re-reads only (would-apply). Outcomes are "
        "NDJSON, written as they happen; --resume skips the changes with a final outcome in "
        "OUTCOMES. Destructive actions (delete-identity, remove-public-policy) need "
        "--confirm N, N the number of destructive changes in the plan.",
        [
            "asyncses apply dkim.plan --dry-run",
            "asyncses apply dkim.plan -o outcomes.ndjson",
            "asyncses apply cleanup.plan -o outcomes.ndjson --confirm 30 --resume",
        ],
    )
    p.add_argument("plan", metavar="PLAN")
    add_aws_options(p)
    add_engine_options(p)
    group = p.add_argument_group("apply")
    group.add_argument("--dry-run", action="store_true", help="re-read and report; change nothing")
    group.add_argument("-o", "--output", default="-", metavar="OUTCOMES", help="outcomes NDJSON")
    group.add_argument("--resume", action="store_true", help="skip changes done in OUTCOMES")
    group.add_argument(
        "--confirm",
        type=whole("confirm", 0),
        metavar="N",
        help="the number of destructive changes in the plan (required when there are any)",
    )
    _add_log_options(p)

    p = _command(
        sub,
        "summary",
        "counts of reports",
        "Counts the records of one or more reports ('-' reads standard input) per type, "
        "region, status, finding and error code, each item once. Markdown explains each "
        "finding: why it matters and how to fix it.",
        [
            "asyncses summary identities.ndjson",
            "asyncses summary shard-*.ndjson --format markdown",
            "asyncses identities | asyncses summary -",
        ],
    )
    p.add_argument("reports", nargs="+", metavar="REPORT")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    p = _command(
        sub,
        "diff",
        "what changed between two reports",
        "Prints one change record per item added, removed or changed between OLD and NEW "
        "(items keyed by type, account, region and name). Exits 0 when nothing changed and "
        "1 when something did, as diff(1) does. --old and --new add more files to either "
        "side (shards of one run).",
        [
            "asyncses diff yesterday.ndjson today.ndjson",
            "asyncses diff a-1.ndjson b-1.ndjson --old a-2.ndjson --new b-2.ndjson",
        ],
    )
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--old", dest="more_old", action="append", default=[], metavar="REPORT")
    p.add_argument("--new", dest="more_new", action="append", default=[], metavar="REPORT")
    p.add_argument("--format", choices=("ndjson", "markdown"), default="ndjson")

    p = _command(
        sub,
        "demo",
        "audit an embedded local SES endpoint and summarize it",
        "Starts a local SES v2 endpoint (moto, extended; needs the [demo] extra), seeds it, "
        "audits identities, the account, configuration sets, pools and import jobs, prints "
        "the summaries, and ends with a dry run of a plan. No AWS account is used.",
        ["asyncses demo", "asyncses demo --identities 3000 --output-dir reports/"],
    )
    p.add_argument(
        "--identities",
        type=whole("identities", 1, 100_000),
        default=300,
        metavar="N",
        help="identities to seed (default 300)",
    )
    p.add_argument("--output-dir", metavar="DIR", help="keep the reports in DIR")
    _add_log_options(p)
    return parser
