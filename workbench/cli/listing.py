"""``workloads`` and ``stages``: what a pipeline offers, as text or ``--json``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from workbench.app import listing
from workbench.cli.exits import EXIT_OK
from workbench.terminal import STDOUT, emit_document, emit_json

__all__ = ["handlers"]


def _workloads(args: argparse.Namespace) -> int:
    found = listing.workloads(args.pipeline)  # its module registers its workloads
    if args.json is not None:
        emit_json(args.json, found.to_json(args.workload))
        if args.json == STDOUT:
            return EXIT_OK
    rows = found.rows
    width = max(len(w.name) for w in rows) if rows else 0
    for w in rows:
        marker = "*" if w.name == args.workload else " "
        print(f"{marker} {w.name:{width}}  size {w.size:<7,} seed {w.seed:<4} "
              f"{w.description}  ({w.module})")
    print(f"* the default workload; pipeline {args.pipeline}")
    return EXIT_OK


def _stages(args: argparse.Namespace) -> int:
    found = listing.stages(args.pipeline)
    emit_document(args.json, found.to_json(), found.to_text())
    return EXIT_OK


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    return {"workloads": _workloads, "stages": _stages}
