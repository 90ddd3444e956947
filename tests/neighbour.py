"""Run a command while a neighbour process keeps one CPU busy: ``make test-busy``.

    python tests/neighbour.py [--cpu N] -- make test

The neighbour is a second Python interpreter spinning in a loop, as a browser tab or a
build on a laptop would: by default the system places it (and moves it) like any other
process; ``--cpu N`` pins it to CPU N instead (the last CPU is the one measurement
workers pin themselves to, the harshest place for it). It is stopped when the command
ends, and the command's exit code is this script's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

SPIN = "while True:\n    pass\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", type=int, default=None,
                        help="pin the neighbour to this CPU (default: let the system place it)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the command to run beside it, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --, e.g. -- make test")
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if args.cpu is not None and args.cpu not in allowed:
        parser.error(f"--cpu {args.cpu}: not one of the CPUs this process may use {allowed}")
    neighbour = subprocess.Popen([sys.executable, "-c", SPIN])
    if args.cpu is not None:
        os.sched_setaffinity(neighbour.pid, [args.cpu])
    where = f"pinned to CPU {args.cpu}" if args.cpu is not None else "placed by the system"
    print(f"neighbour: pid {neighbour.pid} keeps one CPU busy ({where}) while "
          f"`{' '.join(command)}` runs", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        return subprocess.call(command)
    finally:
        neighbour.kill()
        neighbour.wait()
        print(f"neighbour: stopped after {time.monotonic() - started:.0f} s",
              file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
