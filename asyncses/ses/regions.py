"""Region names, and the regions where SES v2 is offered, from botocore's own endpoint data
(no network call)."""

from __future__ import annotations

import functools
import re
from typing import Final

import botocore.session

from .operations import SERVICE

__all__ = ["partition_of", "ses_regions", "valid_region"]

_REGION: Final = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")


def valid_region(name: str) -> bool:
    """True when ``name`` has the shape of an AWS region name (``eu-west-1``)."""
    return bool(_REGION.match(name))


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def ses_regions(partition: str = "aws") -> tuple[str, ...]:
    """Every region of ``partition`` where SES v2 is offered, as botocore knows them."""
    return tuple(sorted(_session().get_available_regions(SERVICE, partition_name=partition)))


@functools.cache
def partition_of(region: str) -> str | None:
    """The partition (``aws``, ``aws-us-gov``, ...) that lists ``region`` for SES v2."""
    for partition in _session().get_available_partitions():
        if region in ses_regions(partition):
            return partition
    return None
