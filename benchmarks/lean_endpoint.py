"""A lean local Amazon SES v2 endpoint for throughput benchmarks.

It answers ``ListEmailIdentities`` (``GET /v2/email/identities``) and ``GetEmailIdentity``
(``GET /v2/email/identities/{EmailIdentity}``) with rest-json bodies shaped as botocore's
``sesv2`` model expects, over HTTP/1.1 keep-alive, using nothing but the standard library
(and uvloop when it is installed). Every body is precomputed, so a request costs the server a
few tens of microseconds of CPU: it shares the machine with the client being measured.

* ``latency`` is applied to every SES answer with ``loop.call_later`` (a timer, no CPU spent
  while waiting), so each connection behaves like a round trip to a remote region.
* ``rate``/``burst`` enable a server-side token bucket; above it the endpoint answers HTTP 429
  ``TooManyRequestsException`` as SES does.
* ``GET /_stats`` returns JSON counters (and a per-second timeline of successful
  ``GetEmailIdentity`` answers and 429s); ``GET /_reset`` returns them too, then zeroes them and
  refills the bucket.
* Unknown identities get 404 ``NotFoundException``. Signatures are not verified.

Run it in its own process, so its CPU does not count as the client's::

    python -m benchmarks.lean_endpoint --port 0 --identities 4000 --latency 0.02

The first line printed on stdout is the endpoint URL. From Python, use
:class:`EndpointProcess`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, cast
from urllib.parse import parse_qsl, quote, unquote

__all__ = ["EndpointConfig", "EndpointProcess", "LeanSesV2", "identity_name", "serve"]

LIST_PATH: Final = "/v2/email/identities"
_GET_PREFIX: Final = LIST_PATH + "/"
_MAX_HEAD: Final = 64 * 1024
_DEFAULT_PAGE_SIZE: Final = 100
_MAX_PAGE_SIZE: Final = 1000
_EPOCH: Final = 1_700_000_000
_TOKEN_PREFIX: Final = "bench-"
# botocore quotes URI labels with these characters left as they are (botocore.utils.SAFE_CHARS).
_BOTOCORE_SAFE: Final = "-._~"

_REASONS: Final = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    429: b"Too Many Requests",
}


@dataclass(frozen=True)
class EndpointConfig:
    """What the endpoint serves and how it behaves.

    Attributes:
        identities: Number of email identities in the simulated account.
        latency: Seconds added to every SES answer (a timer, it costs no CPU).
        rate: Token-bucket refill in requests per second; ``None`` disables throttling.
        burst: Token-bucket capacity.
    """

    identities: int = 4000
    latency: float = 0.02
    rate: float | None = None
    burst: int = 10


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


def _head(status: int, body: bytes, extra: bytes = b"") -> bytes:
    """Return the status line and headers of an answer, up to (not including) the request id."""
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s" % (
        status,
        _REASONS[status],
        len(body),
        extra,
    )


def _error(status: int, error_type: str, message: str) -> tuple[bytes, bytes]:
    """Return the head and body of a rest-json error answer."""
    body = json.dumps({"__type": error_type, "message": message}).encode()
    return _head(status, body, b"x-amzn-ErrorType: %s\r\n" % error_type.encode()), body


class LeanSesV2:
    """The endpoint's state: precomputed answers, token bucket and counters.

    It is transport-agnostic: :meth:`respond` maps a request line to answer bytes.
    """

    def __init__(self, config: EndpointConfig) -> None:
        """Precompute every ``GetEmailIdentity`` answer and the identity list."""
        self.config = config
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
        self._request_id = 0
        self.reset()

    def reset(self) -> None:
        """Zero the counters and refill the token bucket."""
        self.requests = 0
        self.throttled = 0
        self.list_pages = 0
        self.gets = 0
        self.gets_ok = 0
        self.not_found = 0
        self.bad_requests = 0
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_request: float | None = None
        self.last_response: float | None = None
        # Per second since the first request: [GetEmailIdentity answered 200, answers 429].
        self.timeline: list[list[int]] = []
        self._tokens = float(self.config.burst)
        self._refilled = time.monotonic()
        self._cpu_at_reset = time.process_time()

    def stats(self) -> dict[str, Any]:
        """Return the counters as a JSON-ready dict."""
        span = 0.0
        if self.first_request is not None and self.last_response is not None:
            span = max(0.0, self.last_response - self.first_request)
        return {
            "identities": self.config.identities,
            "latency": self.config.latency,
            "rate": self.config.rate,
            "burst": self.config.burst,
            "requests": self.requests,
            "throttled": self.throttled,
            "list_pages": self.list_pages,
            "gets": self.gets,
            "gets_ok": self.gets_ok,
            "not_found": self.not_found,
            "bad_requests": self.bad_requests,
            "connections": self.connections,
            "max_in_flight": self.max_in_flight,
            "span_s": span,
            "timeline": self.timeline,
            "server_cpu_s": time.process_time() - self._cpu_at_reset,
        }

    def _second(self, now: float) -> list[int]:
        """Return the timeline slot of the second ``now`` falls in."""
        assert self.first_request is not None
        index = int(now - self.first_request)
        while len(self.timeline) <= index:
            self.timeline.append([0, 0])
        return self.timeline[index]

    def _admit(self, now: float) -> bool:
        """Take a token from the bucket; return False when the request must be throttled."""
        rate = self.config.rate
        if rate is None:
            return True
        self._tokens = min(float(self.config.burst), self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
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

    def respond(self, method: bytes, target: str, now: float) -> tuple[bytes, bool]:
        """Return the full answer to one request and whether it is an SES call (delayed)."""
        if target.startswith("/_"):
            body = json.dumps(self.stats()).encode()
            if target == "/_reset":
                self.reset()
            return _head(200, body) + b"\r\n" + body, False
        self.requests += 1
        if self.first_request is None:
            self.first_request = now
        path, _, query = target.partition("?")
        is_get = path.startswith(_GET_PREFIX)
        if is_get:
            self.gets += 1
        elif path == LIST_PATH:
            self.list_pages += 1
        if method != b"GET" or not (is_get or path == LIST_PATH):
            self.bad_requests += 1
            head, body = _error(404, "UnknownOperationException", f"No route for {target}")
        elif not self._admit(now):
            self.throttled += 1
            self._second(now)[1] += 1
            head, body = self._throttled
        elif is_get:
            label = path[len(_GET_PREFIX) :]
            found = self._gets.get(label)
            if found is None:
                found = self._gets.get(quote(unquote(label), safe=_BOTOCORE_SAFE))
            if found is None:
                self.not_found += 1
                head, body = _error(
                    404, "NotFoundException", f"Identity {unquote(label)} does not exist"
                )
            else:
                self.gets_ok += 1
                self._second(now)[0] += 1
                head, body = found
        else:
            head, body = self._list_page(query)
            if head.startswith(b"HTTP/1.1 400"):
                self.bad_requests += 1
        self._request_id += 1
        return b"%sx-amzn-RequestId: bench-%08x\r\n\r\n%s" % (head, self._request_id, body), True


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
            head = bytes(self._buffer[:end]).lower()
            length = 0
            marker = head.find(b"\r\ncontent-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker + 2)
                length = int(head[marker + 17 : line_end if line_end >= 0 else None])
            if len(self._buffer) < end + 4 + length:
                return
            request_line = bytes(self._buffer[: head.find(b"\r\n") if b"\r\n" in head else end])
            del self._buffer[: end + 4 + length]
            close = b"\r\nconnection: close" in head
            try:
                method, target, _version = request_line.split(b" ", 2)
            except ValueError:
                self._transport.close()
                return
            answer, delayed = app.respond(method, target.decode("latin-1"), self._loop.time())
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


class EndpointProcess:
    """Run the lean endpoint in a child process (a context manager).

    Example::

        with EndpointProcess(EndpointConfig(identities=4000)) as endpoint:
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
        command = [
            sys.executable,
            "-m",
            "benchmarks.lean_endpoint",
            "--port",
            "0",
            "--identities",
            str(self.config.identities),
            "--latency",
            str(self.config.latency),
            "--burst",
            str(self.config.burst),
        ]
        if self.config.rate is not None:
            command += ["--rate", str(self.config.rate)]
        if not self._use_uvloop:
            command.append("--no-uvloop")
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, cwd=root, env=env
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
        """Return the counters, then zero them and refill the bucket (``GET /_reset``)."""
        return self._get("/_reset")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.lean_endpoint", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--identities", type=int, default=4000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer")
    parser.add_argument("--rate", type=float, default=None, help="token bucket, requests/s")
    parser.add_argument("--burst", type=int, default=10, help="token bucket capacity")
    parser.add_argument("--no-uvloop", action="store_true", help="use the stdlib event loop")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: print the URL, then serve until SIGTERM or SIGINT."""
    args = _parse_args(argv)
    config = EndpointConfig(args.identities, args.latency, args.rate, args.burst)

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
