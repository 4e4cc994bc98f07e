"""Per-call work botocore repeats, done once per client instead.

botocore rebuilds the User-Agent string twice for every request (once to build the request,
once more in a ``request-created`` handler), walking a dozen components and sanitizing each:
about a seventh of a GetEmailIdentity call's CPU. The string only changes when the set of
"feature ids" in botocore's request context changes, so it is cached per client and per
feature set. Signing, credential refresh and error parsing are left exactly as they are.
"""

from __future__ import annotations

from typing import Any

from botocore.context import get_context

__all__ = ["cache_user_agent", "load_models"]

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
