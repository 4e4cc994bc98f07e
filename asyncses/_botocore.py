"""Per-call work botocore repeats, done once per client instead.

botocore rebuilds the User-Agent string twice for every request (once to build the request,
once more in a ``request-created`` handler), walking a dozen components and sanitizing each:
about a seventh of a GetEmailIdentity call's CPU. The string only changes when the set of
"feature ids" in botocore's request context changes, so it is cached per client and per
feature set. Signing, credential refresh and error parsing are left exactly as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import orjson
from botocore import xform_name
from botocore.awsrequest import AWSRequest
from botocore.context import get_context
from botocore.exceptions import ClientError
from botocore.utils import parse_timestamp, percent_encode

__all__ = ["DirectGet", "cache_user_agent", "load_models"]

#: What creating an SES v2 (and STS) client reads from botocore's data files.
_MODELS = (("sesv2", "service-2"), ("sesv2", "endpoint-rule-set-1"))
_DATA = ("endpoints", "partitions", "sdk-default-configuration")


def load_models(session: Any) -> None:
    """Read the JSON models a client needs into botocore's loader cache.

    Creating a client reads them synchronously; call this in a worker thread first so that
    opening a client does not stall the event loop for a tenth of a second.
    """
    loader = session._session.get_component("data_loader")
    for service, kind in _MODELS:
        loader.load_service_model(service, kind)
    for name in _DATA:
        loader.load_data(name)


def cache_user_agent(client: Any) -> None:
    """Make ``client`` build its User-Agent string once per feature set, not per request."""
    creator = getattr(client, "_user_agent_creator", None)
    if creator is None or getattr(creator, "_asyncses_cached", False):
        return
    build = creator.to_string
    cache: dict[tuple[frozenset[str], frozenset[str]], str] = {}

    def to_string() -> str:
        context = get_context()
        key = (
            frozenset(context.features) if context is not None else frozenset(),
            frozenset(getattr(creator, "_client_features", None) or ()),
        )
        value = cache.get(key)
        if value is None:
            value = cache[key] = build()
        return value

    # An instance attribute: both botocore call sites look the method up on the instance.
    creator.to_string = to_string
    creator._asyncses_cached = True


# -- a direct path for one hot read operation ------------------------------------------------

Convert = Callable[[Any], Any]

#: The label value of the botocore call now being made in this task (for the learning hook).
_LABEL: ContextVar[str | None] = ContextVar("asyncses_label", default=None)

#: Headers that belong to one signed request and are made anew for each.
_PER_REQUEST_HEADERS = frozenset(
    {"authorization", "x-amz-date", "x-amz-security-token", "amz-sdk-invocation-id"}
)


class DirectGet:
    """GetEmailIdentity-style calls (GET, one URI label, JSON answer) without the pipeline.

    botocore spends most of a call's CPU on generic machinery: serializing the parameters,
    resolving the endpoint rules, emitting a dozen events, walking the output model. For a
    GET whose only input is one URI label, all of that gives the same result every time
    except the label. So the first call goes through botocore as usual, and a
    ``request-created`` hook notes the request it built (URL, headers, signing context);
    later calls copy it with the new label, are signed by the client's own request signer
    (credential refresh and SigV4 unchanged), sent on the client's own HTTP session, and
    answered from the JSON body, with timestamps converted as botocore's parser converts
    them. Error answers are parsed by botocore's own parser and raised as ``ClientError``.
    An operation whose model this does not cover (headers in the answer, blobs) is left
    to botocore entirely. Direct calls do not emit botocore's ``before-send`` and
    ``after-call`` events: hooks registered there see only the first call.
    """

    def __init__(
        self,
        client: Any,
        operation: str,
        label: str,
        *,
        timestamp: Convert = lambda value: value,
        botocore_answer: Convert = lambda answer: answer,
    ) -> None:
        self._client = client
        self._operation = operation
        self._label = label
        self._model = client.meta.service_model.operation_model(operation)
        self._template: tuple[str, str, dict[str, str], dict[str, Any]] | None = None
        self.supported = _direct_shape_ok(self._model)
        # Answers botocore parsed go through ``botocore_answer``; answers parsed here have
        # their timestamps put through ``timestamp`` after parsing them as botocore does.
        self._botocore_answer = botocore_answer
        self._convert = (
            _converter(self._model.output_shape, stamp=lambda v: timestamp(parse_timestamp(v)))
            if self.supported
            else None
        )
        if self.supported:
            service_id = client.meta.service_model.service_id.hyphenize()
            client.meta.events.register_first(
                f"request-created.{service_id}.{operation}", self._learn
            )

    @property
    def ready(self) -> bool:
        """True once a first call has shown how requests look."""
        return self._template is not None

    def _learn(self, request: Any = None, **kwargs: Any) -> None:
        if self._template is not None or request is None:
            return
        value = _LABEL.get()
        if value is None:
            return
        encoded = percent_encode(value)
        url = str(request.url)
        at = url.rfind("/" + encoded)
        if at < 0:
            return
        prefix, suffix = url[: at + 1], url[at + 1 + len(encoded) :]
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in _PER_REQUEST_HEADERS
        }
        context = dict(request.context)
        self._template = (prefix, suffix, headers, context)

    async def __call__(self, value: str) -> dict[str, Any]:
        """Call the operation with ``value`` as its label; return the parsed answer."""
        client = self._client
        if self._template is None:
            # botocore builds this one; the hook learns from it.
            method = getattr(client, xform_name(self._operation))
            token = _LABEL.set(value)
            try:
                answer: dict[str, Any] = await method(**{self._label: value})
            finally:
                _LABEL.reset(token)
            answer.pop("ResponseMetadata", None)
            converted: dict[str, Any] = self._botocore_answer(answer)
            return converted
        prefix, suffix, headers, context = self._template
        request = AWSRequest(
            method="GET", url=prefix + percent_encode(value) + suffix, headers=dict(headers)
        )
        # What botocore's add_retry_headers sends (its own retries are off: one attempt each).
        request.headers["amz-sdk-invocation-id"] = str(uuid.uuid4())
        request.headers["amz-sdk-request"] = "attempt=1; max=1"
        request.context = dict(context)
        await client._request_signer.sign(self._operation, request)
        response = await client._endpoint.http_session.send(request.prepare())
        body = await response.content
        if response.status_code >= 300:
            raise await self._error(response, body)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            # Not JSON (an empty or HTML body from a proxy): as botocore's parser has it.
            answer = await self._parse(response, body)
            answer.pop("ResponseMetadata", None)
            converted = self._botocore_answer(answer)
            return converted
        parsed: dict[str, Any] = self._convert(data) if self._convert is not None else data
        return parsed

    async def _parse(self, response: Any, body: bytes) -> dict[str, Any]:
        """The answer as botocore's own parser reads it."""
        parser = self._client._endpoint._response_parser_factory.create_parser(
            self._model.service_model.resolved_protocol
        )
        parsed: dict[str, Any] = await parser.parse(
            {"status_code": response.status_code, "headers": response.headers, "body": body},
            self._model.output_shape,
        )
        return parsed

    async def _error(self, response: Any, body: bytes) -> Exception:
        parsed: Any = await self._parse(response, body)
        return ClientError(parsed, self._operation)


def _direct_shape_ok(model: Any) -> bool:
    """True if an answer of this operation is all JSON body (no headers, blobs, streams)."""
    if model.http.get("method") != "GET" or model.has_streaming_output:
        return False
    labels = [m for m, s in model.input_shape.members.items() if s.serialization.get("location")]
    if len(labels) != 1 or model.input_shape.members[labels[0]].serialization["location"] != "uri":
        return False
    output = model.output_shape
    if output is None:
        return False
    if any(s.serialization.get("location") for s in output.members.values()):
        return False
    return _no_blobs(output, set())


def _no_blobs(shape: Any, seen: set[str]) -> bool:
    if shape.name in seen:
        return True
    seen.add(shape.name)
    if shape.type_name == "blob":
        return False
    if shape.type_name == "structure":
        return all(_no_blobs(member, seen) for member in shape.members.values())
    if shape.type_name == "list":
        return _no_blobs(shape.member, seen)
    if shape.type_name == "map":
        return _no_blobs(shape.value, seen)
    return True


def _converter(
    shape: Any,
    memo: dict[str, Convert | None] | None = None,
    *,
    stamp: Convert = parse_timestamp,
) -> Convert | None:
    """A function turning a JSON value of ``shape`` into what botocore's rest-json parser
    gives (member names, timestamps through ``stamp``, unmodelled members dropped); ``None``
    when the JSON value is that already. Built once per operation, so a call only walks what
    needs converting."""
    memo = {} if memo is None else memo
    key = f"{shape.type_name}:{shape.name}"
    if key in memo:
        found = memo[key]
        return found if found is not None else (lambda value: _late(memo, key, value))
    memo[key] = None  # a recursive shape refers to itself through ``_late``
    convert: Convert | None = None
    kind = shape.type_name
    if kind == "timestamp":
        convert = stamp
    elif kind == "structure":
        members = [
            (name, member.serialization.get("name", name), _converter(member, memo, stamp=stamp))
            for name, member in shape.members.items()
        ]

        def structure(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            out: dict[str, Any] = {}
            for name, wire, member in members:
                item = value.get(wire)
                if item is not None:  # botocore drops null members
                    out[name] = item if member is None else member(item)
            return out

        convert = structure
    elif kind in ("list", "map"):
        inner = _converter(shape.member if kind == "list" else shape.value, memo, stamp=stamp)
        if inner is not None:
            each: Convert = inner
            if kind == "list":
                convert = lambda value: [None if v is None else each(v) for v in value]  # noqa: E731
            else:
                convert = lambda value: {  # noqa: E731
                    k: None if v is None else each(v) for k, v in value.items()
                }
    memo[key] = convert
    return convert


def _late(memo: dict[str, Convert | None], key: str, value: Any) -> Any:
    convert = memo[key]
    return value if convert is None else convert(value)
