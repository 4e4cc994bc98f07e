"""Shared fixtures: the embedded SES endpoint, a clean AWS environment, the CLI runner, a
plain boto3 client to read items back."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]  # no boto3 stubs in the test extra
import pytest
import structlog
from botocore.config import Config

from asyncses.cli import main
from asyncses.local import LocalSES

from .helpers import REGION, Cli, Result


@pytest.fixture(scope="session")
def ses_server() -> Iterator[LocalSES]:
    """One moto SES v2 endpoint on loopback for the whole session."""
    with LocalSES() as server:
        yield server


@pytest.fixture
def ses(ses_server: LocalSES) -> LocalSES:
    """The endpoint, with its state reset for this test."""
    ses_server.reset()
    return ses_server


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Dummy credentials and no AWS configuration from the machine, in-process and in children."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    """The CLI configures the ``asyncses`` logger when run in-process; undo it after each test."""
    logger = logging.getLogger("asyncses")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate
    structlog.reset_defaults()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``asyncses ARGS`` in this process; its exit code, stdout and stderr."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def sesv2(ses: LocalSES) -> Any:
    """A plain boto3 SES v2 client of the local endpoint, to read items back (retries off)."""
    return boto3.client(
        "sesv2",
        endpoint_url=ses.url,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}),
    )
