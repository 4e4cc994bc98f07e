"""The reports: one module per SES resource, and what is done with reports afterwards.

Owns
    ``base``          the :class:`~asyncses.reports.base.Caller` protocol a report calls
                      through, and the per-unit job a report runs;
    ``records``       record shapes (TypedDicts), keys, error records;
    ``runner``        running a report over units: the path of every record;
    ``identities``, ``pools``, ``import_jobs``
                      one module per resource: its listing, lookup, record;
    ``findings``, ``policies``
                      what is wrong with an identity, and why;
    ``files``         report files: the run header, reading, resuming, writing safely;
    ``summary``, ``diff``
                      counts of a report, and changes between reports.

May import
    the engine, and of the SES adapter only its operation names and enums; never the
    client or the command line.
"""
