"""The WSGI side of the local endpoint: URL rules, app factory, dispatcher and server thread.

moto's ``DomainDispatcherApplication`` picks a Flask app per service; the
factory here builds the ``sesv2`` and ``sts`` apps itself (with the subclasses
of :mod:`asyncses.local._responses`) and leaves every other service to moto's
``create_backend_app``.  moto's modules, classes and module-level dicts are
never modified.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._responses import response_view, ses_response_class, sts_response_class
from ._state import ServerState

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer

#: Every SES v2 path the endpoint serves (moto-style regexes; labels as in botocore's model).
SESV2_PATHS: tuple[str, ...] = (
    r"/v2/email/account$",
    r"/v2/email/configuration-sets$",
    r"/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)$",
    r"/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations$",
    r"/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations/"
    r"(?P<EventDestinationName>[^/]+)$",
    r"/v2/email/suppression/addresses$",
    r"/v2/email/suppression/addresses/(?P<EmailAddress>[^/]+)$",
    r"/v2/email/contact-lists$",
    r"/v2/email/contact-lists/(?P<ContactListName>[^/]+)$",
    r"/v2/email/contact-lists/(?P<ContactListName>[^/]+)/contacts$",
    r"/v2/email/contact-lists/(?P<ContactListName>[^/]+)/contacts/list$",
    r"/v2/email/contact-lists/(?P<ContactListName>[^/]+)/contacts/(?P<EmailAddress>[^/]+)$",
    r"/v2/email/templates$",
    r"/v2/email/templates/(?P<TemplateName>[^/]+)$",
    r"/v2/email/custom-verification-email-templates$",
    r"/v2/email/custom-verification-email-templates/(?P<TemplateName>[^/]+)$",
    r"/v2/email/identities$",
    r"/v2/email/identities/(?P<EmailIdentity>[^/]+)$",
    r"/v1/email/identities/(?P<EmailIdentity>[^/]+)/dkim/signing$",
    r"/v2/email/identities/(?P<EmailIdentity>[^/]+)/dkim$",
    r"/v2/email/identities/(?P<EmailIdentity>[^/]+)/configuration-set$",
    r"/v2/email/identities/(?P<EmailIdentity>[^/]+)/feedback$",
    r"/v2/email/identities/(?P<EmailIdentity>[^/]+)/mail-from$",
    r"/v2/email/identities/(?P<EmailIdentity>[^/]+)/policies$",
    r"/v2/email/identities/(?P<EmailIdentity>[^/]+)/policies/(?P<PolicyName>[^/]+)$",
    r"/v2/email/tags$",
    r"/v2/email/dedicated-ip-pools$",
    r"/v2/email/dedicated-ip-pools/(?P<PoolName>[^/]+)$",
    r"/v2/email/dedicated-ip-pools/(?P<PoolName>[^/]+)/scaling$",
    r"/v2/email/dedicated-ips$",
    r"/v2/email/dedicated-ips/(?P<IP>[^/]+)$",
    r"/v2/email/dedicated-ips/(?P<IP>[^/]+)/pool$",
    r"/v2/email/dedicated-ips/(?P<IP>[^/]+)/warmup$",
    r"/v2/email/import-jobs$",
    r"/v2/email/import-jobs/list$",
    r"/v2/email/import-jobs/(?P<JobId>[^/]+)$",
    r"/v2/email/outbound-emails$",
)

#: Catch-alls for SES paths not listed above: JSON NotImplemented/UnknownOperation answers.
SESV2_FALLBACK_PATHS: tuple[str, ...] = (r"/v1/(?P<rest>.*)$", r"/v2/(?P<rest>.*)$")

AppFactory = Callable[[str], "Flask"]


def _flask_app(service: str, rules: list[tuple[str, Callable[..., Any]]]) -> Flask:
    """A Flask app like moto's ``create_backend_app``, with the given (regex path, view) rules."""
    from flask import Flask
    from moto.core.utils import convert_regex_to_flask_path, convert_to_flask_response
    from moto.moto_server.utilities import AWSTestHelper, RegexConverter
    from moto.moto_server.werkzeug_app import HTTP_METHODS, BackendRequest
    from moto.settings import DISABLE_GLOBAL_CORS
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import Map

    app = Flask("moto")
    app.service = service  # type: ignore[attr-defined]  # as moto's apps carry it
    app.request_class = BackendRequest
    if not DISABLE_GLOBAL_CORS:
        from flask_cors import CORS

        CORS(app)
    app.view_functions = {}
    app.url_map = Map()
    app.url_map.converters["regex"] = RegexConverter
    for index, (path, view) in enumerate(rules):
        app.add_url_rule(
            convert_regex_to_flask_path(path),
            endpoint=f"{service}.{index}",
            methods=HTTP_METHODS,
            view_func=convert_to_flask_response(view),
            strict_slashes=False,
        )

    def routing_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
        """Unrouted paths answer like SES: JSON and an error type header."""
        return (
            json.dumps({"message": f"No {service} operation matches this request"}),
            error.code or 404,
            {"Content-Type": "application/json", "x-amzn-ErrorType": "UnknownOperationException"},
        )

    app.register_error_handler(404, routing_error)
    app.register_error_handler(405, routing_error)
    app.test_client_class = AWSTestHelper
    return app


def make_app_factory(state: ServerState) -> AppFactory:
    """The ``create_app`` of one server: local ``sesv2`` and ``sts`` apps, moto's for the rest."""
    from moto.moto_server.werkzeug_app import create_backend_app

    def create_app(service: str) -> Flask:
        """The Flask app of one moto service."""
        if service == "sesv2":
            cls = ses_response_class()
            rules = [(path, response_view(cls, state)) for path in SESV2_PATHS]
            rules += [
                (path, response_view(cls, state, routed=False)) for path in SESV2_FALLBACK_PATHS
            ]
            return _flask_app(service, rules)
        if service == "sts":
            return _flask_app(service, [("/$", response_view(sts_response_class(), state))])
        return create_backend_app(service)  # type: ignore[arg-type]

    return create_app


def make_dispatcher(state: ServerState) -> Any:
    """A ``DomainDispatcherApplication`` subclass instance serving one LocalSES."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class LocalDispatcher(DomainDispatcherApplication):
        """Dispatcher that lists moto's services once, not on every request.

        It also sends SES v2's one ``/v1/email/...`` operation
        (PutEmailIdentityDkimSigningAttributes) to the ``sesv2`` app.
        """

        def __init__(self, create_app: AppFactory) -> None:
            """Like moto's, plus the service list computed once for this instance."""
            super().__init__(create_app)
            self.moto_modules: tuple[str, ...] = tuple(backends.list_of_moto_modules())

        def get_backend_for_host(self, host: str | None) -> Any:
            """moto's lookup, against the tuple listed at construction (moto rescans its
            package directory on every request)."""
            if host is None:
                return None
            if host == "moto_api" or host in self.moto_modules:
                return host
            for backend, pattern in self.backend_url_patterns:
                if pattern.match(f"http://{host}"):
                    return backend
            return None

        def infer_service_region_host(self, environ: dict[str, Any], path: str) -> str | None:
            """moto's inference, except that SES's ``/v1/email/`` paths go to sesv2."""
            host = super().infer_service_region_host(environ, path)
            if (
                host is not None
                and path.startswith("/v1/email/")
                and host.startswith(("email.", "ses."))
            ):
                return "sesv2"
            return host

    LocalDispatcher.__module__ = __name__
    return LocalDispatcher(make_app_factory(state))


def _handler_class() -> type[Any]:
    """moto's request handler without access log lines or Werkzeug's own Server header."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        """One ``Server`` header (moto's ``amazon.com``) and no log line per request."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Do not log every request."""

        def send_header(self, keyword: str, value: str) -> None:
            """Drop Werkzeug's ``Server`` header; moto sends ``Server: amazon.com``."""
            if keyword.lower() == "server" and value == self.version_string():
                return
            super().send_header(keyword, value)

    return QuietHandler


class EndpointServer:
    """A threaded WSGI server for one LocalSES on a socket bound here (errors raise OSError)."""

    def __init__(self, host: str, port: int, state: ServerState) -> None:
        """Bind and listen on ``host:port`` (port 0: any free port); serve after :meth:`start`."""
        from werkzeug.serving import make_server

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
            self._server: BaseWSGIServer = make_server(
                host,
                port,
                make_dispatcher(state),
                threaded=True,
                request_handler=_handler_class(),
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="asyncses-local-ses", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
