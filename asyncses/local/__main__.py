"""``python -m asyncses.local``: a seeded local SES v2 endpoint until SIGINT/SIGTERM.

Prints exactly one line on stdout, the endpoint's URL; a summary of what was
seeded goes to stderr.  Exit status 0 after a signal, 2 if the address cannot be
bound or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._local import LocalSES


def _parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m asyncses.local",
        description=(
            "Run a seeded local Amazon SES v2 endpoint (moto) until SIGINT or SIGTERM. "
            "Prints the endpoint URL as the only line on stdout."
        ),
    )
    count = _non_negative
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port; 0 picks a free one (4566)")
    parser.add_argument("--region", default="us-east-1", help="region to seed (us-east-1)")
    parser.add_argument("--identities", type=count, default=3000, help="email identities (3000)")
    parser.add_argument("--pools", type=count, default=12, help="dedicated IP pools (12)")
    parser.add_argument("--import-jobs", type=count, default=30, help="import jobs (30)")
    parser.add_argument(
        "--configuration-sets", type=count, default=10, help="configuration sets (10)"
    )
    parser.add_argument(
        "--suppressions", type=count, default=1000, help="suppressed addresses (1000)"
    )
    parser.add_argument("--contact-lists", type=count, default=2, help="contact lists (2)")
    parser.add_argument(
        "--contacts-per-list", type=count, default=100, help="contacts per contact list (100)"
    )
    parser.add_argument("--templates", type=count, default=5, help="email templates (5)")
    parser.add_argument(
        "--organization",
        type=count,
        default=None,
        metavar="MEMBERS",
        help=(
            "also create an organization with MEMBERS member accounts (role "
            "OrganizationAccountAccessRole), each seeded like the management account"
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the seeded state (0)")
    return parser


def _non_negative(text: str) -> int:
    """An argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def _seed(ses: LocalSES, args: argparse.Namespace, account_id: str, seed: int) -> None:
    """Seed one account of the endpoint as the arguments say."""
    region = args.region
    ses.seed_identities(region, args.identities, seed=seed, account_id=account_id)
    ses.seed_pools(region, args.pools, account_id=account_id)
    ses.seed_import_jobs(region, args.import_jobs, seed=seed, account_id=account_id)
    ses.seed_configuration_sets(region, args.configuration_sets, seed=seed, account_id=account_id)
    ses.seed_suppressions(region, args.suppressions, seed=seed, account_id=account_id)
    ses.seed_contact_lists(
        region, args.contact_lists, args.contacts_per_list, seed=seed, account_id=account_id
    )
    ses.seed_templates(region, args.templates, account_id=account_id)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the endpoint; the exit status."""
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        """Ask the main loop to stop."""
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    ses = LocalSES(host=args.host, port=args.port)
    try:
        ses.start()
    except RuntimeError as exc:
        sys.stderr.write(f"asyncses.local: {exc}\n")
        return 2
    try:
        from ._constants import DEFAULT_ACCOUNT

        try:
            _seed(ses, args, DEFAULT_ACCOUNT, args.seed)
        except ValueError as exc:
            sys.stderr.write(f"asyncses.local: {exc}\n")
            return 2
        accounts = 1
        if args.organization is not None:
            org = ses.create_organization(args.organization)
            for index, account_id in enumerate(org.member_accounts, start=1):
                _seed(ses, args, account_id, args.seed + index)
            accounts += len(org.member_accounts)
            sys.stderr.write(
                f"asyncses.local: organization of {DEFAULT_ACCOUNT} with members "
                f"{', '.join(org.member_accounts)} (role {org.role_name})\n"
            )
        sys.stderr.write(
            f"asyncses.local: seeded {accounts} account(s) in {args.region}; "
            "stop with Ctrl-C or SIGTERM\n"
        )
        sys.stdout.write(f"{ses.url}\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        ses.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
