"""The workbench's version (recorded in baselines and printed by ``--version``)."""

__version__ = "0.1.0"
