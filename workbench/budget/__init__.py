"""Performance budgets: budgets.toml rules, verdicts against a baseline, guards, history.

Modules, by what they hold:

- the rules: ``spec`` (the grammar and parser; ``grammar`` and ``units`` behind it),
  ``rules`` (Rule and the metric vocabulary), ``limits`` (limits given as flags),
  ``applies`` (which rules apply to which measured targets);
- the verdicts: ``verdict`` (check and its semantics), ``bounds`` (one-sided bounds with
  the worker as the unit), ``boundary`` (the calibrated per-look level), ``sequential``
  (more looks until decided), ``scaling`` (sweeps for scaling rules), ``instructions``
  (counting and judging instruction counts), ``check_result`` (Verdict, CheckResult);
- running them: ``checking`` (a check or a baseline: targets, looks, ``--against``
  worktrees), ``standing`` (a comparison's variants judged against the standing budgets),
  ``budgeted_block`` (a ``%%budget`` cell's result), ``guard`` (single-run guards);
- keeping them: ``baseline`` (versioned baseline files), ``history`` (SQLite history),
  ``steps`` (step detection in a history).
"""
