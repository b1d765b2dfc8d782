"""Matching: from each participant's intake answers to proposed pairs the admin can lock, reject
and re-run.

- ``intake``: the program's intake form (the shipped default, the admin's own skills and
  questions) and reading answers; ``forms``: the participant's form and the admin's settings.
- ``solver``: the optimal assignment (scipy's ``linear_sum_assignment``) under hard rules, with
  every proposal's reasons in words; no database.
- ``proposals``: reading a program's population in a fixed number of queries, running, storing.
- ``views``: the admin's matching pages (under the guarded admin area); ``intake_views``: the
  participant's own form, opened through ``authz.intake_participant``.
"""
