"""Matching: from each participant's intake answers to proposed pairs the admin can lock, reject,
swap and re-run, and send to both people, who each say yes or no.

- ``intake``: the program's intake form (the shipped default, the admin's own skills and
  questions) and reading answers; ``forms``: the participant's form and the admin's settings.
- ``solver``: the optimal assignment (scipy's ``linear_sum_assignment``) under hard rules, with
  every proposal's reasons in words; no database.
- ``proposals``: reading a program's population in a fixed number of queries, running, storing.
- ``views``: the admin's matching pages (under the guarded admin area); ``intake_views``: the
  participant's own form, opened through ``authz.intake_participant``.
- ``answers``: both say yes: a locked proposal sent to its two people, each one's private yes or
  no, the pair made when both said yes, and the expiry the reminder pass runs; ``answer_views``:
  the person's own page of proposals sent to them (``authz.proposal_to``).
"""
