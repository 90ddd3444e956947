"""The report front end: the built-in report notebooks (``notebooks/``: compare, profile,
budgets, decisions), package data that ``workbench report`` runs by papermill.

The notebooks reach the workbench through :mod:`workbench.app` (``app.reporting`` for the
stage choices and shares and the stored baseline, ``app.views`` for the decision
timeline) and the notebook magics. The machinery that runs them (plan, papermill runs,
summary and pages) is the core package :mod:`workbench.reporting`.
"""
