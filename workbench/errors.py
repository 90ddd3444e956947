"""The one exception root of the workbench and its few subclasses.

A user's mistake raises a ``WorkbenchError`` whose message names the bad value and
what would have been accepted; front ends map these to exit codes or ``UsageError``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ExecutionError",
    "InvalidInputError",
    "MissingDependencyError",
    "UnknownNameError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Root of every error the workbench raises on purpose."""


class InvalidInputError(WorkbenchError, ValueError):
    """A user-supplied value is out of range or malformed."""


class UnknownNameError(WorkbenchError, KeyError):
    """A stage, variant, workload or model name that does not exist."""

    def __init__(self, kind: str, name: object, known: Iterable[str], where: str = "") -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(known)
        listed = ", ".join(self.known) if self.known else "(none registered)"
        super().__init__(f"unknown {kind} {name!r}{where}; choose one of: {listed}")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class MissingDependencyError(WorkbenchError, ImportError):
    """An optional package a feature needs is not installed."""

    def __init__(self, package: str, feature: str, extra: str) -> None:
        self.package = package
        super().__init__(
            f"{feature} needs the package {package!r}, which is not installed; "
            f"install it with: pip install 'funcpipe-workbench[{extra}]'"
        )


class ExecutionError(WorkbenchError, RuntimeError):
    """User code or an external tool failed while the workbench ran it."""
