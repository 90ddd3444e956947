"""``decide`` and ``decisions``: record a budget decision, read the log.

``workbench decide STAGE VARIANT --because TEXT`` records that STAGE uses VARIANT, on the
evidence given with ``--evidence FILE`` (result files: a comparison of the stage,
profiles) or, without a comparison among them, on every variant measured now. Limits given
as flags (``--latency 2ms --rss 1.5x``) hold the chosen variant in the budgets file.

``workbench decisions [list]`` lists the log (``--stage``, ``--since``), ``decisions show
ID`` prints one decision whole, ``decisions export --html OUT`` writes the log as one
self-contained page.

Exit codes: 0 done, 2 a usage error (unknown stage or variant, an empty rationale, a bad
limit, a damaged log line), 3 an execution error (a variant failed, the log is locked).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from workbench.app import args as flags
from workbench.app.commands import decide_command
from workbench.app.deciding import decisions
from workbench.app.listing import decisions_text
from workbench.cli.exits import EXIT_OK
from workbench.terminal import emit_json

__all__ = ["handlers"]


def _decide(args: argparse.Namespace) -> int:
    from workbench.progress import progress_bar

    with progress_bar(disable=args.no_progress) as progress:
        done = decide_command(args, workload=args.workload, pipeline=args.pipeline,
                              evidence=(), progress=progress)
    for notice in done.notices:
        print(f"NOTICE: {notice}", file=sys.stderr)
    print(done.record.to_text())
    emit_json(args.json, done.record.dumps())
    print(f"recorded {done.record.id} in {done.log}")
    if done.budgets is not None:
        print(done.budgets.summary)
    return EXIT_OK


def _decisions(args: argparse.Namespace) -> int:
    flags.refuse_show_filters(args)
    read = decisions(args.log)
    for notice in read.notices():
        print(f"NOTICE: {notice}", file=sys.stderr)
    if args.action == "show":
        print(read.find(args.id).to_text())
        return EXIT_OK
    print(decisions_text(read, args))
    return EXIT_OK


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    return {"decide": _decide, "decisions": _decisions}
