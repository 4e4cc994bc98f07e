"""botocore answers made JSON-ready (a unit test of one function)."""

from __future__ import annotations

import datetime as dt

from dateutil.tz import tzoffset, tzutc

from asyncses.ses.convert import jsonable, utc_iso


def test_an_answer_loses_its_metadata_and_gets_utc_timestamps_and_text() -> None:
    answer = {
        "ResponseMetadata": {"RequestId": "r-1", "HTTPStatusCode": 200},
        "IdentityType": "DOMAIN",
        "DkimAttributes": {
            "Tokens": ["a", "b"],
            "LastKeyGenerationTimestamp": dt.datetime(2024, 5, 1, 12, 0, tzinfo=tzutc()),
            "NextSigningKeyGenerationTimestamp": dt.datetime(
                2024, 5, 1, 14, 30, 0, 250000, tzinfo=tzoffset(None, 7200)
            ),
        },
        "Naive": dt.datetime(2024, 5, 1, 12, 0),
        "Data": b"caf\xc3\xa9 \xff",
        "Counts": [1, 2.5, None, True],
    }
    assert jsonable(answer) == {
        "IdentityType": "DOMAIN",
        "DkimAttributes": {
            "Tokens": ["a", "b"],
            "LastKeyGenerationTimestamp": "2024-05-01T12:00:00Z",
            "NextSigningKeyGenerationTimestamp": "2024-05-01T12:30:00.250000Z",
        },
        "Naive": "2024-05-01T12:00:00Z",
        "Data": "café \ufffd",
        "Counts": [1, 2.5, None, True],
    }
    assert "ResponseMetadata" in answer  # the caller's answer is left alone


def test_utc_iso_converts_other_offsets_to_utc() -> None:
    value = dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert utc_iso(value) == "2023-12-31T23:30:00Z"
