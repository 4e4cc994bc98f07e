"""The request adapter and the operation registry of the local SES v2 endpoint.

Each SES v2 operation is a function ``handler(call) -> dict`` registered under its
botocore operation name with :func:`operation`.  The response class built in
:mod:`asyncses.local._responses` turns each one into a method of its
``SESV2Response`` subclass.  Nothing here imports moto at import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs

from ._state import Extras, ServerState, extras_of
from ._util import SESError, bad_request

if TYPE_CHECKING:
    from moto.ses.models import SESBackend
    from moto.sesv2.models import SESV2Backend

Handler = Callable[["Call"], dict[str, Any]]
_H = TypeVar("_H", bound=Handler)

#: botocore operation name -> handler, filled by the ``_ops_*`` modules.
OPERATIONS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[_H], _H]:
    """Register ``handler`` as the implementation of SES v2 operation ``name``."""

    def register(handler: _H) -> _H:
        """Record ``handler`` in OPERATIONS and return it unchanged."""
        if name in OPERATIONS:
            raise RuntimeError(f"operation {name} registered twice")
        OPERATIONS[name] = handler
        return handler

    return register


def sesv2_backend(account_id: str, region: str) -> SESV2Backend:
    """moto's sesv2 backend of one account and region (the server's own, same process)."""
    from moto.sesv2.models import sesv2_backends

    try:
        return sesv2_backends[account_id][region]
    except KeyError:
        raise UnknownRegionError(region) from None


class UnknownRegionError(SESError, ValueError):
    """A region where SES (as botocore and moto know it) does not exist."""

    def __init__(self, region: str) -> None:
        """BadRequestException naming the region."""
        super().__init__("BadRequestException", f"Amazon SES is not available in region {region!r}")


def resource_arn(partition: str, region: str, account_id: str, kind: str, name: str) -> str:
    """``arn:{partition}:ses:{region}:{account}:{kind}/{name}``."""
    return f"arn:{partition}:ses:{region}:{account_id}:{kind}/{name}"


class Call:
    """One SES v2 request, as the handlers see it.

    Wraps moto's response object (after ``setup_class``) with typed accessors for
    URI labels, query parameters and the JSON body, plus the backends of the
    request's account and region.
    """

    def __init__(self, response: Any, state: ServerState) -> None:
        """Wrap ``response`` (a set-up SESV2Response) for a server with ``state``."""
        self.response = response
        self.state = state
        self.account: str = response.current_account
        self.region: str = response.region
        self.partition: str = response.partition

    @cached_property
    def _query(self) -> dict[str, list[str]]:
        """The URL's query parameters (never the body or headers, unlike moto's querystring)."""
        return parse_qs(self.response.parsed_url.query, keep_blank_values=True)

    @cached_property
    def _body(self) -> dict[str, Any]:
        """The JSON body (empty if there is none)."""
        raw = self.response.body
        if not raw:
            return {}
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise bad_request("The request body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object")
        return data

    @cached_property
    def backend(self) -> SESV2Backend:
        """moto's sesv2 backend for this request's account and region."""
        return sesv2_backend(self.account, self.region)

    @property
    def core(self) -> SESBackend:
        """moto's SES (v1) backend, where the v2 backend keeps its state."""
        return self.backend.core_backend

    @cached_property
    def extras(self) -> Extras:
        """The extra state of this account and region."""
        return extras_of(self.backend)

    def uri(self, name: str) -> str:
        """A URI label of the operation (percent-decoded)."""
        value = (self.response.uri_match or {}).get(name)
        if not isinstance(value, str) or not value:
            raise bad_request(f"{name} is required")
        return value

    def query(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self._query.get(name)
        return values[0] if values else None

    def query_list(self, name: str) -> list[str]:
        """Every value of query parameter ``name``."""
        return list(self._query.get(name, []))

    def body(self) -> dict[str, Any]:
        """The request's JSON body."""
        return self._body

    def arn(self, kind: str, name: str) -> str:
        """The ARN of an SES resource of this account and region."""
        return resource_arn(self.partition, self.region, self.account, kind, name)

    def params(self) -> dict[str, Any]:
        """Every parameter of the request: URI labels, query parameters (first values) and
        body members, by the names the URL pattern and the model use."""
        found: dict[str, Any] = {
            key: value for key, value in (self.response.uri_match or {}).items() if value
        }
        found.update({key: values[0] for key, values in self._query.items() if values})
        found.update(self._body)
        return found
