"""The SES adapter: everything that knows Amazon SES v2, AWS credentials and botocore.

Owns
    ``operations``  operation names, limits and enums of the SES v2 API;
    ``errors``      the translation of botocore and aiohttp failures into the engine's error
                    tree (one place), and the scrubbing of secrets from messages;
    ``convert``     botocore answers as JSON-ready values;
    ``regions``     region names and the regions where SES v2 is offered (botocore's data);
    ``session``     sessions, credentials and the account behind them;
    ``unit``        :class:`~asyncses.ses.unit.Unit`: one account in one region, its client,
                    its pacer, and paced, retried calls and listings.

May import
    the engine, aioboto3, aiobotocore, botocore and aiohttp; never the reports, the client
    or the command line.
"""
