"""The commands that are not audits: ``summary``, ``diff`` and ``create-pool``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any

import orjson

from ..client import Client
from ..engine.errors import AlreadyExistsError
from ..reports.diff import diff_records, render_diff_markdown
from ..reports.files import ReportReader
from ..reports.pools import parse_tags, validate_pool
from ..reports.summary import render_summary, summarize_reports
from ..settings import Settings
from . import exits

__all__ = ["create_pool", "diff", "summary"]


def _warn(message: str) -> None:
    sys.stderr.write(f"asyncses: warning: {message}\n")


def summary(args: argparse.Namespace) -> int:
    """``asyncses summary REPORT...``"""
    result = summarize_reports(args.reports)
    title = ", ".join("stdin" if p == "-" else os.path.basename(p) for p in args.reports)
    for warning in result.warnings:
        _warn(warning)
    sys.stdout.write(render_summary(result, args.format, title=title))
    if args.format == "json":
        sys.stdout.write("\n")
    return exits.OK


def _kind_of(header: Mapping[str, Any]) -> str:
    """A report's record type and options, as its run header line gives them."""
    options = header.get("options") or {}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items())) if options else ""
    return f"{header.get('record_type')}" + (f" {shown}" if shown else "")


def diff(args: argparse.Namespace) -> int:
    """``asyncses diff OLD NEW``: exit 0 if nothing changed, 1 if something did."""
    old_paths = [args.old, *args.more_old]
    new_paths = [args.new, *args.more_new]
    if old_paths.count("-") + new_paths.count("-") > 1:
        return exits.fail("standard input ('-') can be read once only")
    readers: list[ReportReader] = []

    def records(paths: list[str]):  # type: ignore[no-untyped-def]
        for path in paths:
            reader = ReportReader(path)
            readers.append(reader)
            for _n, _raw, record in reader:
                yield record

    warnings: list[str] = []
    changes = list(diff_records(records(old_paths), records(new_paths), warnings=warnings))
    kinds = {_kind_of(reader.header) for reader in readers if reader.header is not None}
    if len(kinds) > 1:
        warnings.append(
            "the reports come from different kinds of run ("
            + "; ".join(sorted(kinds))
            + "): what one kind does not fetch shows as a change"
        )
    for reader in readers:
        if reader.torn:
            warnings.append(f"{reader.name}: the last line is cut short (ignored)")
        elif not reader.complete:
            warnings.append(f"{reader.name}: no end line: the run that wrote it was interrupted")
    for warning in warnings:
        _warn(warning)
    if args.format == "markdown":
        title = f"Changes from {', '.join(map(os.path.basename, old_paths))} to " + ", ".join(
            map(os.path.basename, new_paths)
        )
        sys.stdout.write(render_diff_markdown(changes, title=title))
    else:
        for change in changes:
            sys.stdout.buffer.write(orjson.dumps(change, option=orjson.OPT_APPEND_NEWLINE))
        sys.stdout.flush()
    return exits.ERRORS if changes else exits.OK


async def create_pool(args: argparse.Namespace) -> int:
    """``asyncses create-pool NAME``"""
    tags = parse_tags(args.tag)
    scaling_mode = args.scaling_mode.upper()
    validate_pool(args.name, scaling_mode, tags)
    settings = Settings(
        regions=(args.region,) if args.region else (),
        profiles=(args.profile,) if args.profile else (),
        endpoint_url=args.endpoint_url,
    )
    async with Client(settings) as client:
        try:
            record = await client.create_dedicated_ip_pool(args.name, scaling_mode, tags)
        except AlreadyExistsError:
            return exits.fail(
                f"a dedicated IP pool named {args.name!r} already exists", exits.ERRORS
            )
    sys.stdout.buffer.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    sys.stdout.flush()
    return exits.OK
