"""``asyncses demo``: audit an embedded local SES v2 endpoint and print what was found."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import AsyncIterable, Mapping
from pathlib import Path
from typing import Any, TextIO

import aioboto3
import anyio

from ..changes.plan import parse_where, plan
from ..client import Client
from ..engine.errors import UsageError
from ..engine.sink import write_ndjson
from ..reports.files import read_report
from ..reports.summary import plural, render_summary, summarize

REGION = "us-east-1"
POOLS = 12
IMPORT_JOBS = 30
CONFIGURATION_SETS = 8


async def run_demo(args: argparse.Namespace) -> int:
    """Start the endpoint, seed it, run the audits, print summaries, dry-run a plan."""
    from ..local import LocalSES

    out = sys.stdout
    with tempfile.TemporaryDirectory(prefix="asyncses-demo-") as scratch:
        folder = Path(args.output_dir or scratch)
        await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
        ses = LocalSES()
        try:
            await anyio.to_thread.run_sync(ses.start)
        except RuntimeError as exc:  # moto missing, or the port taken
            raise UsageError(str(exc)) from None
        try:
            ses.seed_identities(REGION, args.identities)
            ses.seed_pools(REGION, POOLS)
            ses.seed_import_jobs(REGION, IMPORT_JOBS)
            ses.seed_configuration_sets(REGION, CONFIGURATION_SETS)
            ses.set_account(REGION, production_access=False, sent_last_24_hours=170.0)
            out.write(
                f"Embedded SES v2 endpoint at {ses.url}: {args.identities} identities, "
                f"{POOLS} dedicated IP pools, {IMPORT_JOBS} import jobs, "
                f"{CONFIGURATION_SETS} configuration sets, a sandbox account ({REGION})\n\n"
            )
            # Dummy credentials of its own: the demo never sends real ones anywhere.
            session = aioboto3.Session(
                aws_access_key_id="demo", aws_secret_access_key="demo", region_name=REGION
            )
            async with Client(session=session, endpoint_url=ses.url) as client:
                reports: dict[str, AsyncIterable[Mapping[str, Any]]] = {
                    "account.ndjson": client.account(),
                    "identities.ndjson": client.email_identities(),
                    "configuration-sets.ndjson": client.configuration_sets(),
                    "pools.ndjson": client.dedicated_ip_pools(with_ips=True),
                    "import-jobs.ndjson": client.import_jobs(details=True),
                }
                for name, records in reports.items():
                    path = folder / name
                    result = await write_ndjson(records, path)
                    summary = summarize(read_report(path))
                    out.write(render_summary(summary, "text", title=name))
                    out.write(f"({result.records} {plural(result.records, 'record')} written)\n")
                    if name == "identities.ndjson":
                        _need_a_look(path, out)
                    out.write("\n")
                # A plan from the identity report, checked against the account (dry run).
                changes = list(
                    plan(
                        "enable-dkim-signing",
                        read_report(folder / "identities.ndjson"),
                        where=[parse_where("DKIM_SIGNING_DISABLED")],
                    )
                )
                counts: dict[str, int] = {}
                async with client.apply(changes, dry_run=True) as outcomes:
                    async for outcome in outcomes:
                        status = outcome["status"] if outcome["type"] == "outcome" else "error"
                        counts[status] = counts.get(status, 0) + 1
                out.write(
                    f"Plan enable-dkim-signing --where DKIM_SIGNING_DISABLED: {len(changes)} "
                    f"changes; dry run: "
                    + (", ".join(f"{n} {status}" for status, n in counts.items()) or "none")
                    + ".\nOn your own account: asyncses identities -o identities.ndjson; "
                    "asyncses plan enable-dkim-signing --from identities.ndjson --where "
                    "DKIM_SIGNING_DISABLED -o dkim.plan; asyncses apply dkim.plan --dry-run\n\n"
                )
                stats = client.stats
            out.write(
                f"{stats.calls} API calls, {stats.retries} retries. "
                + (
                    f"Reports in {folder}\n"
                    if args.output_dir
                    else "Keep the reports with --output-dir DIR.\n"
                )
            )
        finally:
            await anyio.to_thread.run_sync(ses.stop)
    return 0


def _need_a_look(path: Path, out: TextIO, limit: int = 8) -> None:
    """The first identities with findings, one line each."""
    shown = 0
    for record in read_report(path):
        if record.get("findings") and shown < limit:
            if shown == 0:
                out.write("Identities that need a look:\n")
            out.write(f"  {record['IdentityName']:<40} {', '.join(record['findings'])}\n")
            shown += 1
