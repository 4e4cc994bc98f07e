"""The engine: paced, retried, concurrent calls and an NDJSON sink. It names no AWS service.

Owns
    ``errors``    the error tree (which failures are retried is the engine's call);
    ``pacing``    :class:`~asyncses.engine.pacing.Pacer`, one per quota, found from 429s;
    ``retry``     the retry policy (tenacity) and the per-call statistics;
    ``paginate``  ``NextToken``/``PageSize`` pagination;
    ``pool``      bounded worker pools on anyio task groups and memory streams;
    ``sink``      the NDJSON writer;
    ``log``       the library logger (structlog bound to the standard logger ``asyncses``).

May import
    the standard library, anyio, tenacity, orjson and structlog; nothing else of asyncses.
"""
