"""Running a piece of work on one node of a cluster, or here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from workbench.measure.placement import Fanout, Site

T = TypeVar("T")


def _on_one_node(fanout: Fanout | None, label: str, work: Callable[[Site | None], T]) -> T:
    """``work`` on one node of the cluster behind ``fanout`` (re-run on another if that
    node is lost), or here (``work(None)``) without a cluster."""
    if fanout is None or not fanout.remote:
        return work(None)
    return fanout.map([work], [label])[0]

