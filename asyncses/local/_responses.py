"""moto response subclasses of the local endpoint, built on first use.

moto is imported lazily, so the classes are created (once per process) by
:func:`ses_response_class` and :func:`sts_response_class`.  Neither touches
moto's own classes: every fix lives in the subclass.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from ._call import OPERATIONS, Call, Handler
from ._state import ServerState
from ._util import SESError

_log = logging.getLogger("asyncses.local")
_lock = threading.Lock()
_classes: dict[str, type[Any]] = {}
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/.+$")
_DISABLED_MESSAGE = "The security token included in the request is invalid."

#: Response view: (request, full_url, headers) -> (status, headers, body).
View = Callable[[Any, str, Any], Any]


def _operation_method(handler: Handler) -> Callable[[Any], str]:
    """A moto-style response method (``self -> JSON str``) running ``handler``."""

    def method(self: Any) -> str:
        """Run the handler on this request; its answer as JSON."""
        return json.dumps(handler(self.asyncses_call))

    method.__name__ = handler.__name__
    method.__qualname__ = f"LocalSESV2Response.{handler.__name__}"
    method.__doc__ = handler.__doc__
    return method


def _ses_error_format(answer: Any) -> Any:
    """An error answer of moto's own handlers (``{"__type", "Message"}``) in SES's format."""
    status, headers, body = answer
    if int(status) < 400:
        return answer
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return answer
    if not isinstance(data, dict):
        return answer
    code = str(data.get("__type") or headers.get("x-amzn-ErrorType") or "BadRequestException")
    message = data.get("message", data.get("Message", ""))
    headers = {key: value for key, value in headers.items() if key.lower() != "x-amzn-errortype"}
    headers["x-amzn-ErrorType"] = code.split("#")[-1]
    return status, headers, json.dumps({"message": message})


def _ses_dispatch(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> Any:
    """Set up the request, refuse disabled regions, run the operation; SES-style errors.

    Operations this class does not implement answer 501 ``NotImplemented`` (moto
    would raise), unknown paths 404 ``UnknownOperationException``, and unexpected
    failures 500 ``InternalFailure``, all with a JSON ``{"message": ...}`` body.
    """
    state: ServerState = self.local_state
    try:
        self.setup_class(request, full_url, headers)
    except Exception as exc:  # an unreadable request (say, a corrupt gzip body)
        _log.exception("local SES endpoint: cannot read the request")
        failure = SESError("BadRequestException", f"Cannot read the request: {exc}")
        error_headers = {"Content-Type": "application/json", "x-amzn-ErrorType": failure.code}
        return failure.status, error_headers, failure.body()
    self.response_headers["Content-Type"] = "application/json"
    try:
        if state.region_disabled(self.current_account, self.region):
            raise SESError("UnrecognizedClientException", _DISABLED_MESSAGE)
        action = self._get_action()
        if not action:
            raise SESError(
                "UnknownOperationException",
                f"No SES v2 operation matches {self.method} {self.path}",
            )
        if not (self.routed and action in self.implemented_operations):
            raise SESError("NotImplemented", f"The local SES endpoint does not implement {action}")
        self.asyncses_call = Call(self, state)
        state.count_operation(action)
        hook = state.hooks.get(action)
        if hook is not None:
            hook(self.current_account, self.region, self.asyncses_call.params())
        return _ses_error_format(self.call_action())
    except SESError as err:
        answer_headers = dict(self.response_headers)
        answer_headers["x-amzn-ErrorType"] = err.code
        answer_headers, body = self._enrich_response(answer_headers, err.body())
        return err.status, answer_headers, body
    except Exception as exc:  # a bug here or in moto: answer like SES's InternalFailure
        _log.exception("local SES endpoint: %s %s failed", self.method, self.path)
        failure = SESError("InternalFailure", f"{type(exc).__name__}: {exc}")
        answer_headers = dict(self.response_headers)
        answer_headers["x-amzn-ErrorType"] = failure.code
        answer_headers, body = self._enrich_response(answer_headers, failure.body())
        return failure.status, answer_headers, body


def _build_ses_class() -> type[Any]:
    """``LocalSESV2Response``: moto's SESV2Response with every local operation as a method."""
    from moto.core.utils import camelcase_to_underscores
    from moto.sesv2.responses import SESV2Response

    from . import _ops_config, _ops_identities, _ops_resources  # noqa: F401  (registers)

    namespace: dict[str, Any] = {
        "__doc__": (
            "SESV2Response with the local endpoint's fixes and extra operations.\n\n"
            "Each SES v2 operation of ``asyncses.local`` is a method named as moto names\n"
            "them; moto's own methods remain for the rest (SendEmail)."
        ),
        "__module__": __name__,
        "_dispatch": _ses_dispatch,
        "local_state": None,
        "routed": True,
        "asyncses_call": None,
    }
    for name, handler in OPERATIONS.items():
        namespace[camelcase_to_underscores(name)] = _operation_method(handler)
    implemented = set(OPERATIONS)
    for name, member in vars(SESV2Response).items():  # moto's own operations (SendEmail)
        if inspect.isfunction(member) and not name.startswith("_"):
            implemented.add("".join(part.title() for part in name.split("_")))
    namespace["implemented_operations"] = frozenset(implemented)
    return type("LocalSESV2Response", (SESV2Response,), namespace)


def _build_sts_class() -> type[Any]:
    """``LocalTokenResponse``: moto's STS response with AssumeRole checks and counting."""
    from moto.core.exceptions import AccessDeniedError
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.iam.models import iam_backends
    from moto.sts.responses import TokenResponse

    def role_exists(role_arn: str) -> bool:
        """Whether the IAM backend of the ARN's account has a role with exactly this ARN."""
        match = _ROLE_ARN.match(role_arn)
        if match is None:
            return False
        iam = iam_backends[match.group(1)]["global"]
        return any(role.arn == role_arn for role in iam.get_roles())

    class LocalTokenResponse(TokenResponse):
        """STS whose AssumeRole needs the role to exist and may hand out short-lived keys."""

        local_state: ServerState | None = None

        def assume_role(self) -> ActionResult:
            """Count the call; AccessDenied (403) unless the role exists in its account."""
            state = self.local_state
            role_arn = str(self._get_param("RoleArn") or "")
            if state is not None:
                state.count_assume_role(role_arn)
            if not role_exists(role_arn):
                _user_id, caller_arn, _account = self.backend.get_caller_identity(
                    self.get_access_key(), self.region
                )
                raise AccessDeniedError(
                    user_arn=caller_arn, action=f"sts:AssumeRole on resource: {role_arn}"
                )
            result = super().assume_role()
            lifetime = state.sts_credential_lifetime if state is not None else None
            if lifetime is not None:
                credentials = result.result["Credentials"]  # type: ignore[index]
                credentials.expiration = utcnow() + dt.timedelta(seconds=lifetime)
            return result

    LocalTokenResponse.__module__ = __name__
    return LocalTokenResponse


def ses_response_class() -> type[Any]:
    """The SESV2Response subclass of the local endpoint (built once, on first use)."""
    with _lock:
        found = _classes.get("sesv2")
        if found is None:
            found = _classes["sesv2"] = _build_ses_class()
        return found


def sts_response_class() -> type[Any]:
    """The STS TokenResponse subclass of the local endpoint (built once, on first use)."""
    with _lock:
        found = _classes.get("sts")
        if found is None:
            found = _classes["sts"] = _build_sts_class()
        return found


def response_view(cls: type[Any], state: ServerState, *, routed: bool = True) -> View:
    """A Flask view for one server: a fresh ``cls`` instance per request, told ``state``.

    ``routed=False`` is the catch-all of unknown SES paths: it answers
    NotImplemented or UnknownOperationException without running a handler.
    """

    def view(request: Any, full_url: str, headers: Any) -> Any:
        """Answer one request with a fresh response object."""
        response = cls()
        response.local_state = state
        if not routed:
            response.routed = False
        return response._dispatch(request, full_url, headers)

    view.__name__ = f"{cls.__name__}.dispatch"
    return view
