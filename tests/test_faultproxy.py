"""Tests of the fault-injecting proxy in `tests/faultproxy.py`, against a real moto server."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]  # boto3 ships no stubs; clients are dynamic anyway
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, HTTPClientError
from moto.server import ThreadedMotoServer

from tests.faultproxy import FaultProxy, Faults

StartProxy = Callable[..., FaultProxy]
MakeClient = Callable[[str], Any]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server on a free loopback port, shared by the module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and no user AWS config."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def start_proxy(moto_url: str) -> Iterator[StartProxy]:
    """Start proxies (in front of moto unless told otherwise); all are stopped at teardown."""
    proxies: list[FaultProxy] = []

    def start(faults: Faults | None = None, *, seed: int = 0, upstream: str = "") -> FaultProxy:
        proxy = FaultProxy(upstream or moto_url, faults, seed=seed)
        proxies.append(proxy)
        proxy.start()
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """sesv2 clients without retries; all are closed at teardown."""
    clients: list[Any] = []

    def make(endpoint_url: str) -> Any:
        client = boto3.session.Session().client(
            "sesv2",
            region_name="us-east-1",
            endpoint_url=endpoint_url,
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _error(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc_info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# Signed-looking, so moto routes raw requests to SES v2; moto does not check signatures.
_SES_AUTH = "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ses/aws4_request"


def _raw_post(body: bytes, content_length: int) -> bytes:
    head = (
        f"POST /v2/email/identities HTTP/1.1\r\nHost: x\r\nAuthorization: {_SES_AUTH}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    )
    return head.encode() + body


def _raw_get(url: str, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path, headers={"Authorization": _SES_AUTH})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_pass_through_create_and_get(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """Without faults, requests reach moto and answers come back intact."""
    proxy = start_proxy()
    client = make_client(proxy.url)
    client.create_email_identity(EmailIdentity="pass.example.com")
    identity = client.get_email_identity(EmailIdentity="pass.example.com")
    assert identity["IdentityType"] == "DOMAIN"
    stats = proxy.stats.snapshot()
    assert (stats.requests, stats.forwarded) == (2, 2)
    assert [(r.method, r.status) for r in stats.log] == [("POST", 200), ("GET", 200)]
    assert stats.log[1].path == "/v2/email/identities/pass.example.com"


def test_keep_alive_to_clients(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """Several requests share one client connection although moto closes after each answer."""
    proxy = start_proxy()
    client = make_client(proxy.url)
    for _ in range(4):
        client.list_email_identities()
    stats = proxy.stats.snapshot()
    assert (stats.connections, stats.requests, stats.upstream_connections) == (1, 4, 4)


def test_duplicate_server_header_dropped(moto_url: str, start_proxy: StartProxy) -> None:
    """moto's two Server headers reach the client as one."""
    proxy = start_proxy()
    direct, _ = _raw_get(moto_url, "/v2/email/identities")
    proxied, _ = _raw_get(proxy.url, "/v2/email/identities")
    assert len(direct.msg.get_all("Server") or []) == 2
    assert proxied.status == 200
    assert len(proxied.msg.get_all("Server") or []) == 1
    assert proxied.getheader("Connection") == "keep-alive"


def test_throttle_is_ses_shaped(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """An injected 429 parses in botocore as TooManyRequestsException, with Retry-After."""
    proxy = start_proxy(Faults(throttle=1.0, retry_after=2))
    with pytest.raises(ClientError) as exc_info:
        make_client(proxy.url).list_email_identities()
    assert _error(exc_info) == ("TooManyRequestsException", 429)
    response: Any = exc_info.value.response
    assert response["Error"]["Message"] == "Too many requests"
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    raw, body = _raw_get(proxy.url, "/v2/email/identities")
    assert (raw.status, raw.getheader("x-amzn-ErrorType")) == (429, "TooManyRequestsException")
    assert body == b'{"__type": "TooManyRequestsException", "message": "Too many requests"}'
    stats = proxy.stats.snapshot()
    assert (stats.throttled, stats.forwarded, stats.upstream_connections) == (2, 0, 0)


def test_error_injects_internal_failure(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """error=1.0 answers 500 InternalFailure."""
    proxy = start_proxy(Faults(error=1.0))
    with pytest.raises(ClientError) as exc_info:
        make_client(proxy.url).list_email_identities()
    assert _error(exc_info) == ("InternalFailure", 500)
    assert proxy.stats.statuses() == [500]


def test_drop_closes_without_answer(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """drop=1.0 closes the connection unanswered, a botocore connection error."""
    proxy = start_proxy(Faults(drop=1.0))
    with pytest.raises(ConnectionClosedError):
        make_client(proxy.url).list_email_identities()
    stats = proxy.stats.snapshot()
    assert (stats.dropped, stats.statuses()) == (1, ["dropped"])


def test_match_restricts_faults(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """Faults apply only to requests whose "METHOD PATH?QUERY" matches; faults swap live."""
    proxy = start_proxy(Faults(throttle=1.0, match=r"^GET /v2/email/identities/"))
    client = make_client(proxy.url)
    client.create_email_identity(EmailIdentity="match.example.com")
    client.list_email_identities()
    with pytest.raises(ClientError) as exc_info:
        client.get_email_identity(EmailIdentity="match.example.com")
    assert _error(exc_info) == ("TooManyRequestsException", 429)
    assert proxy.stats.statuses() == [200, 200, 429]

    proxy.faults = Faults()
    assert client.get_email_identity(EmailIdentity="match.example.com")["IdentityType"] == "DOMAIN"


def test_same_seed_same_faults(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """The fault sequence is a function of the seed."""

    def run(seed: int) -> list[Any]:
        proxy = start_proxy(Faults(throttle=0.3, error=0.3), seed=seed)
        client = make_client(proxy.url)
        for _ in range(12):
            with contextlib.suppress(ClientError):
                client.list_email_identities()
        return list(proxy.stats.statuses())

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert {200, 429, 500} <= set(first)
    assert other != first


def test_token_bucket(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """A 50/s bucket with burst 5 throttles back-to-back requests beyond burst plus refill."""
    proxy = start_proxy(Faults(bucket_rate=50, bucket_burst=5))
    client = make_client(proxy.url)
    started = time.monotonic()
    throttled = 0
    for _ in range(40):
        try:
            client.list_email_identities()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "TooManyRequestsException"
            throttled += 1
    elapsed = time.monotonic() - started
    passed = 40 - throttled
    assert proxy.stats.throttled == throttled
    assert proxy.stats.statuses()[:5] == [200] * 5  # the bucket starts full
    # About 35 are throttled on an idle machine; the bound below also holds on a loaded one.
    assert 5 <= passed <= 5 + 50 * elapsed + 1

    time.sleep(0.1)  # time passing is what is under test: 0.1 s refills 5 tokens
    client.list_email_identities()


def test_token_bucket_without_refill(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """With a negligible refill rate exactly the burst passes, then every request is throttled."""
    proxy = start_proxy(Faults(bucket_rate=0.001, bucket_burst=3))
    client = make_client(proxy.url)
    for _ in range(8):
        with contextlib.suppress(ClientError):
            client.list_email_identities()
    assert proxy.stats.statuses() == [200] * 3 + [429] * 5


def test_latency_delays_requests(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """latency delays each matching request by at least that long."""
    proxy = start_proxy(Faults(latency=0.2))
    client = make_client(proxy.url)
    started = time.monotonic()
    client.list_email_identities()
    assert time.monotonic() - started >= 0.2


def test_stop_is_prompt(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """stop() closes idle and in-flight connections and joins the thread in under a second."""
    proxy = start_proxy(Faults(latency=30))
    idle = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)
    idle.connect()
    failures: list[BaseException] = []

    def call() -> None:
        try:
            make_client(proxy.url).list_email_identities()
        except BaseException as exc:  # handed to the test thread
            failures.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert proxy.stats.wait_for(lambda s: s.requests == 1 and s.connections == 2)
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 1.0
    caller.join(5)
    idle.close()
    assert not caller.is_alive()
    assert len(failures) == 1
    assert isinstance(failures[0], HTTPClientError)


def test_upstream_failure_answers_502(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """An unreachable upstream gives 502, and the proxy keeps serving."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    proxy = start_proxy(upstream=dead)
    client = make_client(proxy.url)
    for _ in range(2):
        with pytest.raises(ClientError) as exc_info:
            client.list_email_identities()
        assert _error(exc_info)[1] == 502
    stats = proxy.stats.snapshot()
    assert (stats.bad_gateway, stats.connections) == (2, 1)


def test_client_disconnects_are_survived(start_proxy: StartProxy, make_client: MakeClient) -> None:
    """Clients vanishing mid-body or while awaiting an answer do not disturb the proxy."""
    proxy = start_proxy(Faults(latency=0.2, match="^POST "))
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:  # gone mid-body
        sock.sendall(_raw_post(b"{", 99))
    with socket.create_connection(("127.0.0.1", port)) as sock:  # gone while delayed
        body = b'{"EmailIdentity": "gone.example.com"}'
        sock.sendall(_raw_post(body, len(body)))
        assert proxy.stats.wait_for(lambda s: s.requests == 1)
    assert proxy.stats.wait_for(lambda s: len(s.log) == 1)
    assert proxy.stats.statuses() == [200]
    assert make_client(proxy.url).list_email_identities()["EmailIdentities"] is not None
    assert proxy.stats.requests == 2


class _CannedUpstream(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer: bytes, *, keep_open: bool) -> None:
        self.answer, self.keep_open = answer, keep_open
        super().__init__(("127.0.0.1", 0), _CannedHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _CannedHandler(socketserver.StreamRequestHandler):
    server: _CannedUpstream

    def handle(self) -> None:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = self.rfile.readline()
                if not line:
                    return
                head += line
            self.wfile.write(self.server.answer)
            self.wfile.flush()
            if not self.server.keep_open:
                return


@pytest.mark.parametrize(
    ("answer", "keep_open", "upstream_connections"),
    [
        pytest.param(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5;ext=1\r\n{"a":\r\n3\r\n 1}\r\n0\r\nX-Trailer: t\r\n\r\n',
            True,
            1,
            id="chunked-pooled",
        ),
        pytest.param(b'HTTP/1.0 200 OK\r\n\r\n{"a": 1}', False, 3, id="read-to-eof"),
        pytest.param(
            b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{"a": 1}', True, 1, id="length-pooled"
        ),
    ],
)
def test_upstream_framings(
    start_proxy: StartProxy, answer: bytes, keep_open: bool, upstream_connections: int
) -> None:
    """Chunked, EOF-delimited and sized answers are re-framed with Content-Length; pools reuse."""
    upstream = _CannedUpstream(answer, keep_open=keep_open)
    serving = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    proxy = start_proxy(upstream=upstream.url)
    try:
        host, port = proxy.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            for _ in range(3):
                conn.request("GET", "/anything")
                response = conn.getresponse()
                assert json.loads(response.read()) == {"a": 1}
                assert response.getheader("Content-Length") == "8"
                assert response.getheader("Transfer-Encoding") is None
        finally:
            conn.close()
        stats = proxy.stats.snapshot()
        assert (stats.connections, stats.forwarded) == (1, 3)
        assert stats.upstream_connections == upstream_connections
    finally:
        proxy.stop()  # first, so the upstream's handlers see their connections close
        upstream.shutdown()
        upstream.server_close()
        serving.join()
