"""A value split at a space on a command line or a magic's line.

A notebook variable put into a magic's line as it is (``%%budget --latency {limit}`` with
``limit = "10 s"``) arrives as two words, ``10`` and ``s``, as does an unquoted
``--latency 10 s`` in a shell; argparse then takes ``10`` and refuses ``s``. Two answers:

- where it cannot be ambiguous, a flag takes the words whole (:class:`Words`): a flag of a
  parser without positional arguments, such as ``%%budget``'s limits, owns every word up to
  the next flag, so ``--latency 10 s`` is the limit ``10 s``;
- elsewhere the refusal names the split value and the quoted form to write
  (:func:`unrecognized`, which :class:`HintingParser` puts into argparse's refusal):
  ``unrecognized arguments: s; if '10 s' is one value of --latency, quote it: --latency
  '10 s'``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Iterator, Sequence
from itertools import takewhile
from typing import Any

__all__ = ["NOTEBOOK_QUOTING", "HintingParser", "Words", "WordsHelpFormatter", "unrecognized"]

#: How to quote a variable put into a magic's line (IPython expands ``{expression}`` with
#: Python's formatting, so a conversion or a call quotes it).
NOTEBOOK_QUOTING = ("in a magic's line write a notebook variable as {name!r}, or "
                    "{shlex.quote(name)} for any text")


class Words(argparse.Action):
    """A flag whose value may be several words (``--latency 10 s``), joined by single
    spaces. Only for a parser without positional arguments, where every word up to the
    next flag can only be the flag's."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs["nargs"] = "+"
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, " ".join(values))


class WordsHelpFormatter(argparse.HelpFormatter):
    """argparse's layout, with a :class:`Words` flag shown as taking one value
    (``--latency LIMIT``, not ``--latency LIMIT [LIMIT ...]``)."""

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if isinstance(action, Words):
            return self._metavar_formatter(action, default_metavar)(1)[0]
        return super()._format_args(action, default_metavar)


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and its subcommands' parsers, all the way down."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _parsers(sub)


def _takes_value(parser: argparse.ArgumentParser, flag: str) -> bool:
    return any(action.nargs != 0 for p in _parsers(parser)
               if (action := p._option_string_actions.get(flag)) is not None)


def _split_value(parser: argparse.ArgumentParser, argv: Sequence[str],
                 extras: Sequence[str]) -> tuple[str, str] | None:
    """``(flag, value)`` when the first refused word follows a flag's value: the value
    and the refused words after it, as one."""
    for i, word in enumerate(argv):
        if word != extras[0] or i == 0 or word.startswith("-"):
            continue  # a refused flag (e.g. one of another command) is no value's rest
        before = argv[i - 1]
        if before.startswith("--") and "=" in before:
            flag, value = before.split("=", 1)
        elif i >= 2 and argv[i - 2].startswith("-") and not before.startswith("-"):
            flag, value = argv[i - 2], before
        else:
            continue
        if not _takes_value(parser, flag):
            continue
        rest = list(takewhile(lambda w: not w.startswith("-"), argv[i:]))[:len(extras)]
        return flag, " ".join([value, *rest])
    return None


def unrecognized(parser: argparse.ArgumentParser, argv: Sequence[str],
                 extras: Sequence[str], *, notebook: bool = False) -> str:
    """argparse's ``unrecognized arguments: ...``, and when they follow a flag's value,
    that they may be the rest of that value, split at a space, and how to quote it (with
    ``notebook``, also how to quote a variable in a magic's line)."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    split = _split_value(parser, argv, extras) if extras else None
    if split is None:
        return message
    flag, value = split
    hint = f"{message}; if {value!r} is one value of {flag}, quote it: {flag} {shlex.quote(value)}"
    return f"{hint} ({NOTEBOOK_QUOTING})" if notebook else hint


class HintingParser(argparse.ArgumentParser):
    """An ArgumentParser whose ``unrecognized arguments`` refusal says when they look like
    the rest of a value split at a space (:func:`unrecognized`); ``notebook``: a magic's
    parser, whose refusal also says how to quote a notebook variable."""

    notebook = False

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        argv = list(sys.argv[1:] if args is None else args)
        parsed, extras = self.parse_known_args(argv, namespace)
        if extras:
            self.error(unrecognized(self, argv, extras, notebook=self.notebook))
        return parsed
