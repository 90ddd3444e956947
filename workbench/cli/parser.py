"""The command line's parser: the commands it shares with ``%wb``
(:func:`workbench.app.parser.build_parser`) and its own ``report``, parsed by a parser that
shows each option's default and exits with a usage error on a bad flag (words it does not
know that look like the rest of a value split at a space are named as such)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from workbench.app import parser as shared
from workbench.app.argv import HintingParser

if TYPE_CHECKING:
    from workbench.app.projects import Project

__all__ = ["HelpFormatter", "build_parser"]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilogs as written and shows each option's default (unless its help already
    names it, or it has none worth showing)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (action.option_strings and "default" not in text
                and default not in (None, False, [], argparse.SUPPRESS)):
            text += " (default: %(default)s)"
        return text


class _Parser(HintingParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise SystemExit(f"{self.prog}: error: {message}")


def build_parser(project: Project | None = None) -> argparse.ArgumentParser:
    """The ``workbench`` command's parser on ``project``'s defaults (a bare project in the
    working directory when None)."""
    from workbench.app.projects import Project
    from workbench.cli import reporting

    project = project or Project(root=Path.cwd())
    return shared.build_parser(project, parser_class=_Parser, prog="workbench",
                               own=lambda sub: reporting.add_parsers(sub, project))
