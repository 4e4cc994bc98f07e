"""Bulk changes from a reviewed plan: plan, dry-run, apply at the quota, resume, exactly once.

Owns
    ``actions``  each action: what it applies to, its one SES v2 call, its precondition
                 (``expect``) and target state (``want``), and how SES would check it;
    ``plan``     plans built from reports (``--where``), plan files, their checks;
    ``apply``    the per-unit apply: re-read, then ``already``, ``drifted``,
                 ``would-apply``, ``applied`` or ``failed``.

May import
    the reports (records, policies, tag rules), the SES adapter's operation names, and the
    engine; never the client or the command line.
"""
