"""Performance budgets: budgets.toml rules, verdicts against a baseline, guards, history.

Modules: ``spec`` (grammar and parser), ``verdict`` (check and its semantics), ``result``
(Verdict, CheckResult), ``baseline`` (versioned baseline files), ``guard`` (single-run
guards), ``history`` (SQLite history), ``steps`` (step detection), ``units``.
"""
