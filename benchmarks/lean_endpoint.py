"""A lean local Amazon SES v2 endpoint for benchmarks, with per-account quotas.

It answers, with bodies shaped as botocore's models expect, over HTTP/1.1 keep-alive, using
nothing but the standard library (and uvloop when it is installed):

* SES v2 (rest-json): ``ListEmailIdentities`` (``GET /v2/email/identities``),
  ``GetEmailIdentity`` (``GET /v2/email/identities/{EmailIdentity}``),
  ``PutEmailIdentityFeedbackAttributes`` (``PUT .../{EmailIdentity}/feedback``, a write: it
  changes what ``GetEmailIdentity`` then shows, per account and region) and
  ``ListSuppressedDestinations`` (``GET /v2/email/suppression/addresses``, with its
  ``Reason``, ``StartDate`` and ``EndDate`` filters; each page generated from the index, so a
  list of millions costs no memory);
* STS (query protocol, ``POST /`` with a form body): ``GetCallerIdentity`` and
  ``AssumeRole``, whose access key id is ``ASIA`` + the account id, so the requests of an
  assumed role land in that account's buckets;
* Organizations (JSON 1.1, ``X-Amz-Target: AWSOrganizationsV20161128.ListAccounts``):
  ``ListAccounts``, ``--accounts`` ACTIVE accounts (the management account first), 10 a
  page. The management account is :data:`MANAGEMENT_ACCOUNT`; every key that is not an
  assumed role's is its.

Identity answers are precomputed, so a request costs the server a few tens of microseconds
of CPU: it shares the machine with the client being measured. STS and Organizations calls
get the same latency, but no quota and no place in the SES counters (``"control"`` counts
them).

* ``latency`` is applied to every SES answer with ``loop.call_later`` (a timer, no CPU spent
  while waiting), so each connection behaves like a round trip to a remote region.
* A quota is a token bucket per **account and region**: the bucket of a request is keyed by
  the access key id and the region of its SigV4 credential scope (``Authorization:
  AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ses/aws4_request, ...``), so clients
  signing with different keys or for different regions draw on different quotas, as on SES.
  Every account and region serves the same identities. Above its quota a request is answered
  HTTP 429 ``TooManyRequestsException``, with no ``Retry-After`` (SES sends none). Writes
  draw on a second bucket per account and region (SES's write quotas are their own), refilled
  at ``--write-rate`` (default: the read schedule).
* The refill rate follows a **schedule** (``--schedule 0:5,40:50``: 5 requests/s from second 0,
  50 from second 40), seconds counted from the first SES request after a reset, the same
  clock for every bucket; ``--rate R`` is ``--schedule 0:R``. A bucket holds ``--burst``
  tokens and starts full. With neither, nothing is throttled.
* ``GET /_stats`` returns JSON counters, with a per-second timeline of ``[200s, 429s]`` over
  every SES request (list pages and writes included), overall and per bucket (writes also on
  their own: ``write_timeline``, ``write_buckets``); ``GET /_reset`` returns them too, then
  zeroes them, forgets every bucket and every write, and restarts the schedule's clock.
* Unknown identities get 404 ``NotFoundException``. Signatures are not verified.

Run it in its own process, so its CPU does not count as the client's::

    python -m benchmarks.lean_endpoint --port 0 --identities 4000 --latency 0.02 --rate 20
    python -m benchmarks.lean_endpoint --identities 700 --accounts 20 --rate 20
    python -m benchmarks.lean_endpoint --identities 3000 --rate 50 --write-rate 20
    python -m benchmarks.lean_endpoint --identities 0 --suppressed 1000000

The first line printed on stdout is the endpoint URL. From Python, use
:class:`EndpointProcess`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, cast
from urllib.parse import parse_qsl, quote, unquote

__all__ = [
    "MANAGEMENT_ACCOUNT",
    "EndpointConfig",
    "EndpointProcess",
    "LeanSesV2",
    "Schedule",
    "account_id",
    "account_of_key",
    "assumed_key",
    "endpoint_command",
    "format_schedule",
    "identity_name",
    "parse_schedule",
    "serve",
    "suppressed_address",
    "suppressed_index",
]

LIST_PATH: Final = "/v2/email/identities"
_GET_PREFIX: Final = LIST_PATH + "/"
SUPPRESSION_PATH: Final = "/v2/email/suppression/addresses"
_FEEDBACK: Final = "feedback"
#: The organization's management account: every access key that is not an assumed role's.
MANAGEMENT_ACCOUNT: Final = "100000000000"
_ASSUMED_PREFIX: Final = "ASIA"
_ORG_ID: Final = "o-bench000000"
_ORG_TARGET: Final = "AWSOrganizationsV20161128."
_ORG_PAGE_SIZE: Final = 10
_ORG_MAX_PAGE_SIZE: Final = 20
_ORG_TOKEN_PREFIX: Final = "accounts-"
_STS_XMLNS: Final = "https://sts.amazonaws.com/doc/2011-06-15/"
_SUPPRESSION_TOKEN_PREFIX: Final = "suppressed-"
_SUPPRESSION_STEP_S: Final = 60  # LastUpdateTime of address i: _EPOCH + 60 * i
_FEEDBACK_ON: Final = b'"FeedbackForwardingStatus":true'
_FEEDBACK_OFF: Final = b'"FeedbackForwardingStatus":false'
_ROLE_ARN: Final = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):role/([\w+=,.@/-]+)")
_AMZ_TARGET: Final = b"\r\nx-amz-target:"
_MAX_HEAD: Final = 64 * 1024
_DEFAULT_PAGE_SIZE: Final = 100
_MAX_PAGE_SIZE: Final = 1000
_EPOCH: Final = 1_700_000_000
_TOKEN_PREFIX: Final = "bench-"
# botocore quotes URI labels with these characters left as they are (botocore.utils.SAFE_CHARS).
_BOTOCORE_SAFE: Final = "-._~"
_CREDENTIAL: Final = b"credential="
#: The bucket of requests that carry no SigV4 credential.
UNSIGNED: Final = ("-", "-")

_REASONS: Final = {
    200: b"OK",
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    429: b"Too Many Requests",
}
_JSON: Final = b"application/json"
_JSON_11: Final = b"application/x-amz-json-1.1"
_XML: Final = b"text/xml"

#: A quota schedule: ``(from_second, requests_per_second)`` steps, the first from second 0.
Schedule = tuple[tuple[float, float], ...]


def parse_schedule(text: str) -> Schedule:
    """Parse ``"0:5,40:50"`` into ``((0.0, 5.0), (40.0, 50.0))``; check it is usable."""
    steps: list[tuple[float, float]] = []
    for part in text.split(","):
        if not part.strip():
            continue
        start, sep, rate = part.partition(":")
        if not sep:
            raise ValueError(f"schedule step {part!r} is not FROM_SECOND:RATE")
        steps.append((float(start), float(rate)))
    return _checked(tuple(steps))


def _checked(schedule: Schedule) -> Schedule:
    if not schedule or schedule[0][0] != 0:
        raise ValueError("a schedule starts at second 0")
    starts = [start for start, _ in schedule]
    if starts != sorted(set(starts)):
        raise ValueError("schedule steps must be in increasing order of their seconds")
    if not all(math.isfinite(rate) and rate > 0 for _, rate in schedule):
        raise ValueError("schedule rates must be positive")
    return schedule


def format_schedule(schedule: Schedule) -> str:
    """The ``--schedule`` text of ``schedule``."""
    return ",".join(f"{start:g}:{rate:g}" for start, rate in schedule)


@dataclass(frozen=True)
class EndpointConfig:
    """What the endpoint serves and how it behaves.

    Attributes:
        identities: Number of email identities in every account and region.
        latency: Seconds added to every SES answer (a timer, it costs no CPU).
        rate: Token-bucket refill in requests per second (shorthand for ``((0, rate),)``).
        schedule: Refill rates over time, ``((from_second, rate), ...)``; overrides ``rate``.
        burst: Token-bucket capacity (a bucket starts full).
        write_rate: Refill of the write buckets (one per account and region) in requests per
            second; ``None``: the read schedule's.
        accounts: Accounts of the organization ``ListAccounts`` shows, the management
            account (:data:`MANAGEMENT_ACCOUNT`) first.
        suppressed: Addresses on the suppression list of every account and region.

    With neither ``rate`` nor ``schedule``, nothing is throttled (writes neither, unless
    ``write_rate`` is given).
    """

    identities: int = 4000
    latency: float = 0.02
    rate: float | None = None
    schedule: Schedule = ()
    burst: int = 5
    write_rate: float | None = None
    accounts: int = 1
    suppressed: int = 0

    def __post_init__(self) -> None:
        if self.schedule:
            _checked(self.schedule)
        elif self.rate is not None:
            object.__setattr__(self, "schedule", _checked(((0.0, float(self.rate)),)))
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        if self.write_rate is not None:
            _checked(((0.0, float(self.write_rate)),))
        if not 1 <= self.accounts <= 10_000:
            raise ValueError("accounts must be 1 to 10,000")
        if not 0 <= self.suppressed <= 9_999_999:
            raise ValueError("suppressed must be 0 to 9,999,999")
        if self.identities < 0:
            raise ValueError("identities must not be negative")

    @property
    def write_schedule(self) -> Schedule:
        """The refill schedule of the write buckets."""
        if self.write_rate is not None:
            return ((0.0, float(self.write_rate)),)
        return self.schedule

    def quota_at(self, second: float) -> float | None:
        """The refill rate in force ``second`` seconds after the first request."""
        rate = None
        for start, value in self.schedule:
            if start <= second:
                rate = value
        return rate


def _refill(schedule: Schedule, start: float, end: float) -> float:
    """Tokens the schedule adds between seconds ``start`` and ``end`` (the integral)."""
    tokens = 0.0
    for i, (step, rate) in enumerate(schedule):
        until = schedule[i + 1][0] if i + 1 < len(schedule) else math.inf
        low, high = max(start, step), min(end, until)
        if high > low:
            tokens += (high - low) * rate
    return tokens


class _Bucket:
    """One account and region (reads, or writes): its tokens and counters."""

    __slots__ = ("key", "ok", "refilled", "requests", "throttled", "timeline", "tokens")

    def __init__(self, key: tuple[str, str], tokens: float, now: float) -> None:
        self.key = key  # (access key id, region)
        self.tokens = tokens
        self.refilled = now  # seconds since the first request
        self.requests = 0
        self.ok = 0
        self.throttled = 0
        # Per second since the first request: [answers 200, answers 429].
        self.timeline: list[list[int]] = []

    def note(self, second: int, status: int) -> None:
        timeline = self.timeline
        while len(timeline) <= second:
            timeline.append([0, 0])
        if status == 200:
            self.ok += 1
            timeline[second][0] += 1
        elif status == 429:
            self.throttled += 1
            timeline[second][1] += 1

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "throttled": self.throttled,
            "timeline": self.timeline,
        }


def account_id(index: int) -> str:
    """The id of account ``index`` of the organization (0: the management account)."""
    return f"{int(MANAGEMENT_ACCOUNT) + index:012d}"


def assumed_key(account: str) -> str:
    """The access key id ``AssumeRole`` hands out for a role in ``account``."""
    return _ASSUMED_PREFIX + account


def account_of_key(key: str) -> str:
    """The account an access key id belongs to: an assumed role's, else the management's."""
    account = key[len(_ASSUMED_PREFIX) :]
    if key.startswith(_ASSUMED_PREFIX) and len(account) == 12 and account.isdigit():
        return account
    return MANAGEMENT_ACCOUNT


def suppressed_address(index: int) -> str:
    """The address of entry ``index`` of every suppression list."""
    return f"s{index:07d}@example.net"


def suppressed_index(address: str) -> int | None:
    """The index of a :func:`suppressed_address` (``None`` for any other address)."""
    local, _, domain = address.partition("@")
    if domain != "example.net" or len(local) != 8 or not local[1:].isdigit():
        return None
    return int(local[1:])


def _suppressed_reason(index: int) -> bytes:
    return b"COMPLAINT" if index % 4 == 0 else b"BOUNCE"


def identity_name(index: int) -> str:
    """Return the name of identity ``index``: 7 in 10 are domains, the rest email addresses."""
    if index % 10 < 7:
        return f"d{index:06d}.example.com"
    return f"user{index:06d}@example.org"


def _identity_document(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the ``IdentityInfo`` list entry and ``GetEmailIdentity`` body of identity ``index``."""
    name = identity_name(index)
    is_domain = "@" not in name
    identity_type = "DOMAIN" if is_domain else "EMAIL_ADDRESS"
    if index % 97 == 3:
        status = "FAILED"
    elif index % 50 == 7:
        status = "PENDING"
    else:
        status = "SUCCESS"
    stamp = _EPOCH + index * 37
    info = {
        "IdentityType": identity_type,
        "IdentityName": name,
        "SendingEnabled": True,
        "VerificationStatus": status,
    }
    if is_domain:
        digest = hashlib.blake2b(name.encode(), digest_size=48).hexdigest()
        dkim: dict[str, Any] = {
            "SigningEnabled": status == "SUCCESS",
            "Status": status,
            "Tokens": [digest[0:32], digest[32:64], digest[64:96]],
            "SigningAttributesOrigin": "AWS_SES",
            "NextSigningKeyLength": "RSA_2048_BIT",
            "CurrentSigningKeyLength": "RSA_2048_BIT" if index % 3 else "RSA_1024_BIT",
            "LastKeyGenerationTimestamp": stamp,
        }
        mail_from_domain = f"mail.{name}"
    else:
        dkim = {"SigningEnabled": False, "Status": "NOT_STARTED", "Tokens": []}
        mail_from_domain = "mail.example.org"
    verification_info: dict[str, Any] = {"LastCheckedTimestamp": stamp + 86_400}
    if status == "SUCCESS":
        verification_info["LastSuccessTimestamp"] = stamp + 86_400
    elif status == "FAILED":
        verification_info["ErrorType"] = "HOST_NOT_FOUND"
    body: dict[str, Any] = {
        "IdentityType": identity_type,
        "FeedbackForwardingStatus": True,
        "VerifiedForSendingStatus": status == "SUCCESS",
        "DkimAttributes": dkim,
        "MailFromAttributes": {
            "MailFromDomain": mail_from_domain,
            "MailFromDomainStatus": "PENDING" if index % 11 == 5 else "SUCCESS",
            "BehaviorOnMxFailure": "REJECT_MESSAGE" if index % 4 == 0 else "USE_DEFAULT_VALUE",
        },
        "Policies": {},
        "Tags": [{"Key": "team", "Value": "mail"}] if index % 5 == 0 else [],
        "VerificationStatus": status,
        "VerificationInfo": verification_info,
    }
    if index % 3 == 0:
        body["ConfigurationSetName"] = "default-configuration-set"
    return info, body


def _head(status: int, body: bytes, extra: bytes = b"", content_type: bytes = _JSON) -> bytes:
    """Return the status line and headers of an answer, up to (not including) the request id."""
    return b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s" % (
        status,
        _REASONS[status],
        content_type,
        len(body),
        extra,
    )


def _error(status: int, error_type: str, message: str) -> tuple[bytes, bytes]:
    """Return the head and body of a rest-json error answer."""
    body = json.dumps({"__type": error_type, "message": message}).encode()
    return _head(status, body, b"x-amzn-ErrorType: %s\r\n" % error_type.encode()), body


def _json11_error(error_type: str, message: str) -> tuple[bytes, bytes]:
    """Return the head and body of a JSON 1.1 (Organizations) error answer."""
    body = json.dumps({"__type": error_type, "Message": message}).encode()
    return _head(400, body, content_type=_JSON_11), body


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sts_answer(action: str, result: str) -> tuple[bytes, bytes]:
    """Return the head and body of an STS (query protocol) answer."""
    body = (
        f'<{action}Response xmlns="{_STS_XMLNS}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></{action}Response>"
    ).encode()
    return _head(200, body, content_type=_XML), body


def _sts_error(status: int, code: str, message: str) -> tuple[bytes, bytes]:
    """Return the head and body of an STS (query protocol) error answer."""
    body = (
        f'<ErrorResponse xmlns="{_STS_XMLNS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{_xml_escape(message)}</Message></Error><RequestId>bench</RequestId>"
        "</ErrorResponse>"
    ).encode()
    return _head(status, body, content_type=_XML), body


def _timestamp(text: str) -> float:
    """A query-string timestamp as botocore sends it (ISO 8601, or epoch seconds)."""
    try:
        return float(text)
    except ValueError:
        stamp = dt.datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return stamp.timestamp()


def _key_of(credential: bytes | None) -> tuple[str, str]:
    """(access key id, region) of a SigV4 credential (``AKID/date/region/service/...``)."""
    if not credential:
        return UNSIGNED
    parts = credential.decode("latin-1").split("/")
    return parts[0], parts[2] if len(parts) > 2 else "-"


class LeanSesV2:
    """The endpoint's state: precomputed answers, token buckets per account and region (one
    for reads, one for writes), what writes changed, counters.

    It is transport-agnostic: :meth:`respond` maps a request to answer bytes.
    """

    def __init__(self, config: EndpointConfig) -> None:
        """Precompute every ``GetEmailIdentity`` answer and the identity list."""
        self.config = config
        self._write_schedule = config.write_schedule
        self._infos: list[bytes] = []
        # Keyed by the raw (percent-encoded) URI label as botocore sends it, so the hot path
        # is one dict lookup; other encodings fall back to unquote().
        self._gets: dict[str, tuple[bytes, bytes]] = {}
        for index in range(config.identities):
            info, body = _identity_document(index)
            raw = json.dumps(body, separators=(",", ":")).encode()
            self._infos.append(json.dumps(info, separators=(",", ":")).encode())
            self._gets[quote(info["IdentityName"], safe=_BOTOCORE_SAFE)] = (_head(200, raw), raw)
        self._pages: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self._throttled = _error(429, "TooManyRequestsException", "Too many requests")
        self._empty = (_head(200, b"{}"), b"{}")
        # GetEmailIdentity answers with feedback forwarding off, built when first needed.
        self._feedback_off: dict[str, tuple[bytes, bytes]] = {}
        self._request_id = 0
        self.reset()

    def reset(self) -> None:
        """Zero the counters, forget every bucket and every write, restart the schedule's
        clock."""
        self.requests = 0
        self.ok = 0
        self.throttled = 0
        self.list_pages = 0
        self.suppression_pages = 0
        self.gets = 0
        self.gets_ok = 0
        self.writes = 0
        self.writes_ok = 0
        self.writes_throttled = 0
        self.not_found = 0
        self.bad_requests = 0
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_request: float | None = None
        self.last_response: float | None = None
        # Per second since the first request: [answers 200, answers 429], every bucket.
        self.timeline: list[list[int]] = []
        self.write_timeline: list[list[int]] = []
        # STS and Organizations calls by operation, and the accounts roles were assumed in.
        self.control: dict[str, int] = {}
        self.assumed: set[str] = set()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._by_credential: dict[bytes | None, _Bucket] = {}
        self._write_buckets: dict[tuple[str, str], _Bucket] = {}
        self._write_by_credential: dict[bytes | None, _Bucket] = {}
        # What writes changed: (account, region) -> identity label -> forwarding enabled.
        self._feedback: dict[tuple[str, str], dict[str, bool]] = {}
        self._cpu_at_reset = time.process_time()

    def stats(self) -> dict[str, Any]:
        """Return the counters as a JSON-ready dict."""
        span = 0.0
        if self.first_request is not None and self.last_response is not None:
            span = max(0.0, self.last_response - self.first_request)
        return {
            "identities": self.config.identities,
            "latency": self.config.latency,
            "schedule": [list(step) for step in self.config.schedule],
            "write_schedule": [list(step) for step in self._write_schedule],
            "burst": self.config.burst,
            "accounts": self.config.accounts,
            "suppressed": self.config.suppressed,
            "requests": self.requests,
            "ok": self.ok,
            "throttled": self.throttled,
            "list_pages": self.list_pages,
            "suppression_pages": self.suppression_pages,
            "gets": self.gets,
            "gets_ok": self.gets_ok,
            "writes": self.writes,
            "writes_ok": self.writes_ok,
            "writes_throttled": self.writes_throttled,
            "not_found": self.not_found,
            "bad_requests": self.bad_requests,
            "connections": self.connections,
            "max_in_flight": self.max_in_flight,
            "span_s": span,
            "timeline": self.timeline,
            "write_timeline": self.write_timeline,
            "buckets": {f"{key}/{region}": b.stats() for (key, region), b in self._buckets.items()},
            "write_buckets": {
                f"{key}/{region}": b.stats() for (key, region), b in self._write_buckets.items()
            },
            "control": dict(self.control),
            "assumed_accounts": sorted(self.assumed),
            "changed": sum(len(labels) for labels in self._feedback.values()),
            "server_cpu_s": time.process_time() - self._cpu_at_reset,
        }

    def _bucket(self, credential: bytes | None, second: float, *, write: bool = False) -> _Bucket:
        """The read (or write) bucket of a SigV4 credential."""
        by_credential = self._write_by_credential if write else self._by_credential
        bucket = by_credential.get(credential)
        if bucket is None:
            key = _key_of(credential)
            buckets = self._write_buckets if write else self._buckets
            bucket = buckets.get(key)
            if bucket is None:
                bucket = buckets[key] = _Bucket(key, float(self.config.burst), second)
            by_credential[credential] = bucket
        return bucket

    def _admit(self, bucket: _Bucket, second: float, schedule: Schedule) -> bool:
        """Take a token from ``bucket``; return False when the request must be throttled."""
        if not schedule:
            return True
        if len(schedule) == 1:
            added = (second - bucket.refilled) * schedule[0][1]
        else:
            added = _refill(schedule, bucket.refilled, second)
        bucket.tokens = min(float(self.config.burst), bucket.tokens + added)
        bucket.refilled = second
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def _list_page(self, query: str) -> tuple[bytes, bytes]:
        """Answer ``ListEmailIdentities`` for a query string (``NextToken``, ``PageSize``)."""
        params = dict(parse_qsl(query))
        try:
            size = int(params.get("PageSize", _DEFAULT_PAGE_SIZE))
            token = params.get("NextToken")
            start = int(token.removeprefix(_TOKEN_PREFIX)) if token else 0
        except ValueError:
            return _error(400, "BadRequestException", "Invalid NextToken or PageSize")
        if not 0 <= size <= _MAX_PAGE_SIZE or not 0 <= start <= len(self._infos):
            return _error(400, "BadRequestException", "Invalid NextToken or PageSize")
        size = size or _DEFAULT_PAGE_SIZE
        cached = self._pages.get((start, size))
        if cached is None:
            end = min(start + size, len(self._infos))
            body = b'{"EmailIdentities":[' + b",".join(self._infos[start:end]) + b"]"
            if end < len(self._infos):
                body += b',"NextToken":"%s%d"' % (_TOKEN_PREFIX.encode(), end)
            body += b"}"
            cached = self._pages[(start, size)] = (_head(200, body), body)
        return cached

    def _suppression_page(self, query: str) -> tuple[bytes, bytes]:
        """Answer ``ListSuppressedDestinations`` (``PageSize``, ``NextToken``, ``Reason``,
        ``StartDate``, ``EndDate``), generating the page from the index."""
        total = self.config.suppressed
        size, start, low, high = _DEFAULT_PAGE_SIZE, 0, 0, total
        reasons: set[bytes] = set()
        try:
            for name, value in parse_qsl(query):
                if name == "PageSize":
                    size = int(value)
                elif name == "NextToken":
                    start = int(value.removeprefix(_SUPPRESSION_TOKEN_PREFIX))
                elif name == "Reason":
                    reasons.add(value.encode())
                elif name == "StartDate":
                    since = (_timestamp(value) - _EPOCH) / _SUPPRESSION_STEP_S
                    low = max(low, math.ceil(since))
                elif name == "EndDate":
                    until = (_timestamp(value) - _EPOCH) / _SUPPRESSION_STEP_S
                    high = min(high, math.floor(until) + 1)
        except ValueError:
            return _error(400, "BadRequestException", "Invalid parameter")
        if (
            not 0 <= size <= _MAX_PAGE_SIZE
            or not 0 <= start <= total
            or not reasons <= {b"BOUNCE", b"COMPLAINT"}
        ):
            return _error(400, "BadRequestException", "Invalid NextToken, PageSize or Reason")
        size = size or _DEFAULT_PAGE_SIZE
        index = max(start, low)
        entry = b'{"EmailAddress":"s%07d@example.net","Reason":"%s","LastUpdateTime":%d}'
        step = _SUPPRESSION_STEP_S
        if not reasons:
            end = max(index, min(high, index + size))
            entries = [
                entry % (i, _suppressed_reason(i), _EPOCH + step * i) for i in range(index, end)
            ]
            index = end
        else:
            entries = []
            while index < high and len(entries) < size:
                reason = _suppressed_reason(index)
                if reason in reasons:
                    entries.append(entry % (index, reason, _EPOCH + step * index))
                index += 1
        body = b'{"SuppressedDestinationSummaries":[' + b",".join(entries) + b"]"
        if index < high:
            body += b',"NextToken":"%s%d"' % (_SUPPRESSION_TOKEN_PREFIX.encode(), index)
        body += b"}"
        return _head(200, body), body

    def _canonical(self, label: str) -> str | None:
        """The key in ``_gets`` of a URI label, however it is percent-encoded."""
        if label in self._gets:
            return label
        label = quote(unquote(label), safe=_BOTOCORE_SAFE)
        return label if label in self._gets else None

    def _identity(self, label: str, bucket: _Bucket) -> tuple[bytes, bytes] | None:
        """The ``GetEmailIdentity`` answer of a label, as the bucket's account sees it."""
        found = self._gets.get(label)
        if found is None:
            canonical = self._canonical(label)
            if canonical is None:
                return None
            label, found = canonical, self._gets[canonical]
        if self._feedback:
            key, region = bucket.key
            changed = self._feedback.get((account_of_key(key), region))
            if changed and changed.get(label) is False:
                off = self._feedback_off.get(label)
                if off is None:
                    body = found[1].replace(_FEEDBACK_ON, _FEEDBACK_OFF, 1)
                    off = self._feedback_off[label] = (_head(200, body), body)
                found = off
        return found

    def _put_feedback(self, bucket: _Bucket, label: str, body: bytes) -> tuple[int, bytes, bytes]:
        """``PutEmailIdentityFeedbackAttributes``, admitted already: record the change."""
        canonical = self._canonical(label)
        if canonical is None:
            head, answer = _error(
                404, "NotFoundException", f"Identity {unquote(label)} does not exist"
            )
            return 404, head, answer
        try:
            enabled = json.loads(body or b"{}").get("EmailForwardingEnabled")
        except (ValueError, AttributeError):
            enabled = None
        if not isinstance(enabled, bool):
            head, answer = _error(400, "BadRequestException", "EmailForwardingEnabled is required")
            return 400, head, answer
        key, region = bucket.key
        self._feedback.setdefault((account_of_key(key), region), {})[canonical] = enabled
        return 200, *self._empty

    def respond(
        self,
        method: bytes,
        target: str,
        now: float,
        credential: bytes | None = None,
        body: bytes = b"",
        amz_target: str = "",
    ) -> tuple[bytes, bool]:
        """Return the full answer to one request and whether it is an AWS call (delayed).

        ``credential`` is the SigV4 credential of the request (``None`` if unsigned): it
        picks the token bucket. ``body`` and ``amz_target`` (the ``X-Amz-Target`` header)
        matter to writes, STS and Organizations.
        """
        if target.startswith("/_"):
            stats = json.dumps(self.stats()).encode()
            if target == "/_reset":
                self.reset()
            return _head(200, stats) + b"\r\n" + stats, False
        path, _, query = target.partition("?")
        if method == b"POST" and path == "/":
            head, answer = self._control(body, amz_target, credential)
            self._request_id += 1
            return b"%sx-amzn-RequestId: bench-%08x\r\n\r\n%s" % (
                head,
                self._request_id,
                answer,
            ), True
        self.requests += 1
        if self.first_request is None:
            self.first_request = now
        second = now - self.first_request
        label = sub = ""
        is_get = False
        if path.startswith(_GET_PREFIX):
            label, slash, sub = path[len(_GET_PREFIX) :].partition("/")
            is_get = not slash
        write = method == b"PUT" and sub == _FEEDBACK
        bucket = self._bucket(credential, second, write=write)
        bucket.requests += 1
        if write:
            self.writes += 1
            if self._admit(bucket, second, self._write_schedule):
                status, head, answer = self._put_feedback(bucket, label, body)
            else:
                status = 429
                head, answer = self._throttled
        else:
            if is_get:
                self.gets += 1
            elif path == LIST_PATH:
                self.list_pages += 1
            elif path == SUPPRESSION_PATH:
                self.suppression_pages += 1
            if method != b"GET" or not (is_get or path in (LIST_PATH, SUPPRESSION_PATH)):
                self.bad_requests += 1
                status = 404
                head, answer = _error(404, "UnknownOperationException", f"No route for {target}")
            elif not self._admit(bucket, second, self.config.schedule):
                status = 429
                head, answer = self._throttled
            elif is_get:
                found = self._identity(label, bucket)
                if found is None:
                    self.not_found += 1
                    status = 404
                    head, answer = _error(
                        404, "NotFoundException", f"Identity {unquote(label)} does not exist"
                    )
                else:
                    self.gets_ok += 1
                    status = 200
                    head, answer = found
            else:
                if path == LIST_PATH:
                    head, answer = self._list_page(query)
                else:
                    head, answer = self._suppression_page(query)
                status = 200
                if head.startswith(b"HTTP/1.1 400"):
                    self.bad_requests += 1
                    status = 400
        self._count(bucket, int(second), status, write)
        self._request_id += 1
        return b"%sx-amzn-RequestId: bench-%08x\r\n\r\n%s" % (head, self._request_id, answer), True

    def _count(self, bucket: _Bucket, second: int, status: int, write: bool = False) -> None:
        bucket.note(second, status)
        if status == 200:
            self.ok += 1
        elif status == 429:
            self.throttled += 1
        else:
            return
        column = 0 if status == 200 else 1
        timelines = [self.timeline]
        if write:
            timelines.append(self.write_timeline)
            if status == 200:
                self.writes_ok += 1
            else:
                self.writes_throttled += 1
        for timeline in timelines:
            while len(timeline) <= second:
                timeline.append([0, 0])
            timeline[second][column] += 1

    # -- STS and Organizations ---------------------------------------------------------

    def _control(
        self, body: bytes, amz_target: str, credential: bytes | None
    ) -> tuple[bytes, bytes]:
        """Answer an STS (form body) or Organizations (``X-Amz-Target``) call."""
        key = _key_of(credential)[0]
        if amz_target:
            operation = amz_target.removeprefix(_ORG_TARGET)
            self.control[operation] = self.control.get(operation, 0) + 1
            if operation != "ListAccounts":
                return _json11_error("UnknownOperationException", f"No operation {amz_target}")
            if account_of_key(key) != MANAGEMENT_ACCOUNT:
                return _json11_error(
                    "AccessDeniedException", "You don't have permissions to access this resource."
                )
            return self._list_accounts(body)
        params = dict(parse_qsl(body.decode("latin-1")))
        action = params.get("Action", "")
        self.control[action] = self.control.get(action, 0) + 1
        if action == "GetCallerIdentity":
            return self._caller_identity(key)
        if action == "AssumeRole":
            return self._assume_role(key, params)
        return _sts_error(400, "InvalidAction", f"Could not find operation {action!r}")

    def _in_organization(self, account: str) -> bool:
        offset = int(account) - int(MANAGEMENT_ACCOUNT) if account.isdigit() else -1
        return 0 <= offset < self.config.accounts

    def _list_accounts(self, body: bytes) -> tuple[bytes, bytes]:
        """``ListAccounts``: every account ACTIVE, ``MaxResults`` (default 10) a page."""
        total = self.config.accounts
        try:
            params = json.loads(body or b"{}")
            size = int(params.get("MaxResults") or _ORG_PAGE_SIZE)
            token = params.get("NextToken")
            start = int(token.removeprefix(_ORG_TOKEN_PREFIX)) if token else 0
        except (ValueError, AttributeError, TypeError):
            return _json11_error("InvalidInputException", "Invalid NextToken or MaxResults")
        if not 1 <= size <= _ORG_MAX_PAGE_SIZE or not 0 <= start <= total:
            return _json11_error("InvalidInputException", "Invalid NextToken or MaxResults")
        end = min(start + size, total)
        accounts = []
        for index in range(start, end):
            account = account_id(index)
            accounts.append(
                {
                    "Id": account,
                    "Arn": f"arn:aws:organizations::{MANAGEMENT_ACCOUNT}:account/{_ORG_ID}/"
                    f"{account}",
                    "Email": f"aws+{account}@example.com",
                    "Name": "management" if index == 0 else f"member-{index:04d}",
                    "Status": "ACTIVE",
                    "State": "ACTIVE",
                    "JoinedMethod": "INVITED" if index == 0 else "CREATED",
                    "JoinedTimestamp": _EPOCH + 3600 * index,
                }
            )
        page: dict[str, Any] = {"Accounts": accounts}
        if end < total:
            page["NextToken"] = f"{_ORG_TOKEN_PREFIX}{end}"
        answer = json.dumps(page).encode()
        return _head(200, answer, content_type=_JSON_11), answer

    def _caller_identity(self, key: str) -> tuple[bytes, bytes]:
        """``GetCallerIdentity``: the management account's user, or an assumed role."""
        account = account_of_key(key)
        if key.startswith(_ASSUMED_PREFIX) and account == key[len(_ASSUMED_PREFIX) :]:
            arn = f"arn:aws:sts::{account}:assumed-role/bench-role/asyncses"
            user = f"AROABENCH{account}:asyncses"
        else:
            arn = f"arn:aws:iam::{account}:user/bench"
            user = "AIDABENCH"
        return _sts_answer(
            "GetCallerIdentity",
            f"<Arn>{arn}</Arn><UserId>{user}</UserId><Account>{account}</Account>",
        )

    def _assume_role(self, key: str, params: dict[str, str]) -> tuple[bytes, bytes]:
        """``AssumeRole`` into an account of the organization: keys ``ASIA`` + account."""
        arn = params.get("RoleArn", "")
        session = params.get("RoleSessionName", "")
        match = _ROLE_ARN.fullmatch(arn)
        if match is None or not session or not self._in_organization(match[1]):
            return _sts_error(
                403,
                "AccessDenied",
                f"User: arn:aws:iam::{account_of_key(key)}:user/bench is not authorized to "
                f"perform: sts:AssumeRole on resource: {arn}",
            )
        account, role = match[1], match[2]
        try:
            duration = int(params.get("DurationSeconds") or 3600)
        except ValueError:
            return _sts_error(400, "ValidationError", "DurationSeconds must be a number")
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=duration)
        self.assumed.add(account)
        return _sts_answer(
            "AssumeRole",
            "<Credentials>"
            f"<AccessKeyId>{assumed_key(account)}</AccessKeyId>"
            f"<SecretAccessKey>bench-secret-{account}</SecretAccessKey>"
            f"<SessionToken>bench-token-{account}</SessionToken>"
            f"<Expiration>{expiry.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>"
            "</Credentials><AssumedRoleUser>"
            f"<AssumedRoleId>AROABENCH{account}:{_xml_escape(session)}</AssumedRoleId>"
            f"<Arn>arn:aws:sts::{account}:assumed-role/{_xml_escape(role)}/"
            f"{_xml_escape(session)}</Arn>"
            "</AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>",
        )


def _credential(raw: bytes, head: bytes) -> bytes | None:
    """The SigV4 credential of a request head (``raw``, and ``head`` lowercased)."""
    mark = head.find(b"\r\nauthorization:")
    if mark < 0:
        return None
    line_end = head.find(b"\r\n", mark + 2)
    if line_end < 0:
        line_end = len(head)
    at = head.find(_CREDENTIAL, mark, line_end)
    if at < 0:
        return None
    start = at + len(_CREDENTIAL)
    comma = raw.find(b",", start, line_end)
    return raw[start : comma if comma >= 0 else line_end].strip()


def _amz_target(raw: bytes, head: bytes) -> str:
    """The ``X-Amz-Target`` header of a request head (``raw``, and ``head`` lowercased)."""
    mark = head.find(_AMZ_TARGET)
    if mark < 0:
        return ""
    start = mark + len(_AMZ_TARGET)
    line_end = head.find(b"\r\n", start)
    return raw[start : line_end if line_end >= 0 else len(raw)].strip().decode("latin-1")


class _HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, one request at a time per connection (answers stay in order)."""

    def __init__(self, app: LeanSesV2, loop: asyncio.AbstractEventLoop) -> None:
        self._app = app
        self._loop = loop
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._pending: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._app.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            self._app.in_flight -= 1
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._pending is None:
            self._process()

    def _process(self) -> None:
        """Answer every complete request in the buffer until one has to wait for its latency."""
        app = self._app
        while self._pending is None and self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > _MAX_HEAD:
                    self._transport.close()
                return
            raw = bytes(self._buffer[:end])
            head = raw.lower()
            length = 0
            marker = head.find(b"\r\ncontent-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker + 2)
                length = int(head[marker + 17 : line_end if line_end >= 0 else None])
            if len(self._buffer) < end + 4 + length:
                return
            first_end = raw.find(b"\r\n")
            request_line = raw[: first_end if first_end >= 0 else end]
            body = bytes(self._buffer[end + 4 : end + 4 + length]) if length else b""
            del self._buffer[: end + 4 + length]
            close = b"\r\nconnection: close" in head
            try:
                method, target, _version = request_line.split(b" ", 2)
            except ValueError:
                self._transport.close()
                return
            answer, delayed = app.respond(
                method,
                target.decode("latin-1"),
                self._loop.time(),
                _credential(raw, head),
                body,
                _amz_target(raw, head) if method == b"POST" else "",
            )
            latency = app.config.latency
            if delayed and latency > 0:
                app.in_flight += 1
                app.max_in_flight = max(app.max_in_flight, app.in_flight)
                self._pending = self._loop.call_later(latency, self._send_later, answer, close)
                return
            self._send(answer, close, delayed)
            if close:
                return

    def _send(self, answer: bytes, close: bool, counted: bool) -> None:
        assert self._transport is not None
        self._transport.write(answer)
        if counted:
            self._app.last_response = self._loop.time()
        if close:
            self._transport.close()

    def _send_later(self, answer: bytes, close: bool) -> None:
        self._pending = None
        self._app.in_flight -= 1
        if self._transport is None:
            return
        self._send(answer, close, True)
        if self._buffer and not close:
            self._process()


async def serve(
    config: EndpointConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    started: asyncio.Future[str] | None = None,
) -> None:
    """Serve ``config`` on ``host:port`` until cancelled; ``started`` receives the URL."""
    loop = asyncio.get_running_loop()
    app = LeanSesV2(config)
    server = await loop.create_server(lambda: _HttpProtocol(app, loop), host, port, backlog=1024)
    sockname = server.sockets[0].getsockname()
    url = f"http://{sockname[0]}:{sockname[1]}"
    if started is not None:
        started.set_result(url)
    async with server:
        await server.serve_forever()


def endpoint_command(config: EndpointConfig, *, use_uvloop: bool = True) -> list[str]:
    """The command line that serves ``config`` on a free port."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.lean_endpoint",
        "--port",
        "0",
        "--identities",
        str(config.identities),
        "--latency",
        str(config.latency),
        "--burst",
        str(config.burst),
    ]
    if config.schedule:
        command += ["--schedule", format_schedule(config.schedule)]
    if config.write_rate is not None:
        command += ["--write-rate", str(config.write_rate)]
    if config.accounts != 1:
        command += ["--accounts", str(config.accounts)]
    if config.suppressed:
        command += ["--suppressed", str(config.suppressed)]
    if not use_uvloop:
        command.append("--no-uvloop")
    return command


class EndpointProcess:
    """Run the lean endpoint in a child process (a context manager).

    Example::

        with EndpointProcess(EndpointConfig(identities=4000, rate=20)) as endpoint:
            run_client(endpoint.url)
            print(endpoint.stats()["requests"])
    """

    def __init__(self, config: EndpointConfig, *, use_uvloop: bool = True) -> None:
        """Remember the configuration; the process starts on ``__enter__``."""
        self.config = config
        self._use_uvloop = use_uvloop
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        """The process id of the running endpoint."""
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> EndpointProcess:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            endpoint_command(self.config, use_uvloop=self._use_uvloop),
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
            env=env,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"lean endpoint did not start (got {line!r})")
        self.url = line
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def _get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            data: dict[str, Any] = json.load(response)
        return data

    def stats(self) -> dict[str, Any]:
        """Return the endpoint's counters (``GET /_stats``)."""
        return self._get("/_stats")

    def reset(self) -> dict[str, Any]:
        """Return the counters, then zero them, forget the buckets, restart the schedule."""
        return self._get("/_reset")


def _schedule_arg(text: str) -> Schedule:
    try:
        return parse_schedule(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.lean_endpoint", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--identities", type=int, default=4000, help="per account and region")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer")
    quota = parser.add_mutually_exclusive_group()
    quota.add_argument("--rate", type=float, help="quota: requests/s per account and region")
    quota.add_argument(
        "--schedule",
        type=_schedule_arg,
        metavar="S:R,...",
        help="quota over time: R requests/s from second S (counted from the first SES "
        "request after a reset), e.g. 0:5,40:50",
    )
    parser.add_argument("--burst", type=int, default=5, help="token bucket capacity (default 5)")
    parser.add_argument(
        "--write-rate",
        type=float,
        help="write quota: requests/s per account and region (default: the read quota)",
    )
    parser.add_argument(
        "--accounts", type=int, default=1, help="accounts of the organization (ListAccounts)"
    )
    parser.add_argument(
        "--suppressed", type=int, default=0, help="suppressed addresses per account and region"
    )
    parser.add_argument("--no-uvloop", action="store_true", help="use the stdlib event loop")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: print the URL, then serve until SIGTERM or SIGINT."""
    args = _parse_args(argv)
    config = EndpointConfig(
        identities=args.identities,
        latency=args.latency,
        rate=args.rate,
        schedule=args.schedule or (),
        burst=args.burst,
        write_rate=args.write_rate,
        accounts=args.accounts,
        suppressed=args.suppressed,
    )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        started: asyncio.Future[str] = loop.create_future()
        task = asyncio.ensure_future(serve(config, args.host, args.port, started))
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        waiters: set[asyncio.Future[Any]] = {started, task}
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if started in done:
            sys.stdout.write(started.result() + "\n")
            sys.stdout.flush()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    if not args.no_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(run())
            return
    asyncio.run(run())


if __name__ == "__main__":
    main()
