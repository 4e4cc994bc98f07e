"""Shared fixtures: the embedded SES endpoint, a clean AWS environment, the CLI runner."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
import structlog

from asyncses.local import LocalSES

from .helpers import REGION


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
