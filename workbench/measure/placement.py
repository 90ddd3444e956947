"""Where a group of jobs runs, as the engine sees it: a :class:`Site` gives the launcher of
its worker processes, a :class:`Fanout` spreads groups over sites. Here: this machine
(:class:`LocalSite`, :class:`LocalFanout`). A cluster (:mod:`workbench.cluster`) brings
sites and fan-outs of its own that implement the same protocols, so the engine never
needs to know about clusters.

A group is everything that must be measured on one machine to be compared: the variants
of one comparison, both sides of ``check --against``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from workbench.measure.launch import Launcher, code_launcher, process_launcher

__all__ = ["Done", "Fanout", "LocalFanout", "LocalSite", "Site", "Work"]

T = TypeVar("T")


class Site(Protocol):
    """One place to run a group of jobs."""

    @property
    def name(self) -> str: ...

    @property
    def remote(self) -> bool: ...

    def launcher(self, root: Path | None = None, env_size: int | None = None) -> Launcher: ...

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None,
             what: str) -> T: ...


class LocalSite:
    """This machine: the default process launchers, calls made here."""

    name = "local"
    remote = False

    def launcher(self, root: Path | None = None, env_size: int | None = None) -> Launcher:
        if root is None and env_size is None:
            return process_launcher
        return code_launcher(root or Path.cwd(), env_size=env_size)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None,
             what: str) -> T:
        return fn(*args)


Work = Callable[[Site], T]
Done = Callable[[int, T], None]


class Fanout(Protocol):
    @property
    def remote(self) -> bool: ...

    @property
    def notes(self) -> list[str]: ...

    def map(self, work: Sequence[Work[T]], labels: Sequence[str],
            on_done: Done[T] | None = None) -> list[T]: ...


class LocalFanout:
    """Every group on this machine, in order."""

    remote = False

    def __init__(self) -> None:
        self.notes: list[str] = []

    def map(self, work: Sequence[Work[T]], labels: Sequence[str],
            on_done: Done[T] | None = None) -> list[T]:
        site, out = LocalSite(), []
        for i, fn in enumerate(work):
            out.append(fn(site))
            if on_done is not None:
                on_done(i, out[-1])
        return out
