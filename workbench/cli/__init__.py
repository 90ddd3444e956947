"""The ``workbench`` command line: parse, call the service layer (:mod:`workbench.app`),
print.

Exit codes: 0 success, 1 an error-level budget breach (``check``), 2 usage error (bad
flag, unknown name, bad value), 3 execution error (a variant or tool failed, a dependency
is missing), 130 interrupted. ``python -m workbench`` is the same command.

- :mod:`.dispatch`: :func:`main`, the project, the parser, errors as exit codes;
- :mod:`.parser`: the parser (the commands shared with ``%wb`` and ``report``);
- :mod:`.measuring`: ``run``, ``compare``, ``sweep``;
- :mod:`.budgets`: ``baseline``, ``check``, ``history``;
- :mod:`.profiling`: ``flame``, ``memory``, ``lines``;
- :mod:`.deciding`: ``decide``, ``decisions``;
- :mod:`.reporting`: ``report``;
- :mod:`.listing`: ``workloads``, ``stages``.
"""

from __future__ import annotations

from workbench.cli.dispatch import main
from workbench.cli.parser import build_parser

__all__ = ["build_parser", "main"]
