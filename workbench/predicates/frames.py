"""``frame_equal`` and ``frames``: Polars or pandas frames, judged by the library's own
``assert_frame_equal`` with tolerances.

The verdict is the library's (``polars.testing`` / ``pandas.testing``, imported when
the predicate first runs); the detail is the workbench's own: rows, columns, dtypes, the
first differing value by row and column, the count and the largest differences.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import MissingDependencyError
from workbench.predicates.checks import check_flag, check_tolerance
from workbench.predicates.describe import judged
from workbench.predicates.result import EquivalenceResult, materialize
from workbench.predicates.tolerance import Tolerance
from workbench.predicates.walk import frame_library, tally

__all__ = ["FrameEqual", "frame_equal", "frames"]

FEATURE = "the frames equivalence predicate"


class FrameLibraryMissing(MissingDependencyError):
    """The testing module of a frame library cannot be imported."""

    def __init__(self, module: str, install: str) -> None:
        self.package = module.partition(".")[0]
        Exception.__init__(self, f"{FEATURE} needs {module!r}, which cannot be imported; "
                                 f"install it with: {install}")


def _testing(library: str) -> Any:
    import importlib

    module = f"{library}.testing"
    try:
        return importlib.import_module(module)
    except ImportError:
        install = ("pip install 'funcpipe-workbench[native]'" if library == "polars"
                   else "pip install pandas")
        raise FrameLibraryMissing(module, install) from None


@dataclass(frozen=True, slots=True)
class FrameEqual:
    """Frames (or series) of one library equal under its ``assert_frame_equal``: the
    same columns with the same dtypes (unless ``check_dtypes=False``), the same rows in
    the same order (unless ``check_order=False``: any row and column order; pandas
    matches rows by index label), numbers
    within ``rtol``/``atol`` by the library's own rule. Polars 2 and pandas measure the
    relative tolerance against the larger of the two values (symmetric); Polars before
    1.32 measured it against pure's value, which it is given as ``right``. NaN matches
    NaN, null matches null."""

    rtol: float = 1e-5
    atol: float = 1e-8
    check_dtypes: bool = True
    check_order: bool = True

    def __post_init__(self) -> None:
        check_tolerance("frame_equal()", "rtol", self.rtol)
        check_tolerance("frame_equal()", "atol", self.atol)
        check_flag("frame_equal()", "check_dtypes", self.check_dtypes)
        check_flag("frame_equal()", "check_order", self.check_order)

    @property
    def code(self) -> str:
        """How this predicate is written in a declaration."""
        if self == FrameEqual():
            return "workbench.frames"
        return (f"workbench.frame_equal(rtol={self.rtol:g}, atol={self.atol:g}, "
                f"check_dtypes={self.check_dtypes}, check_order={self.check_order})")

    def __call__(self, reference: Any, candidate: Any, *, variant: str,
                 params: Mapping[str, Any]) -> EquivalenceResult:
        ref, cand = materialize(reference), materialize(candidate)
        library = frame_library(ref)
        if library is None or frame_library(cand) != library:
            return EquivalenceResult(
                False, f"frames compares Polars or pandas frames of one library; pure gave "
                       f"a {type(ref).__module__}.{type(ref).__name__}, {variant} a "
                       f"{type(cand).__module__}.{type(cand).__name__}")
        message = self._library_verdict(library, ref, cand)
        said = f"{library} (left: {variant}, right: pure): {message}"
        tol = Tolerance(self.rtol, self.atol)  # the figures; the verdict is the library's
        found = (tally(ref, cand, tol, variant, dtypes="same" if self.check_dtypes else "any")
                 if self.check_order else None)
        if found is None:
            return EquivalenceResult(message is None, "equal frames (row and column order "
                                     "ignored)" if message is None else _cut(said))
        described = judged(found, tol, None, self.code)
        if message is None:  # the library's verdict; the walk's figures
            return EquivalenceResult(True, described.detail if found.same else "equal frames",
                                     described.worst)
        detail = _cut(said) if found.same else described.detail
        return EquivalenceResult(False, detail, described.worst)

    def _library_verdict(self, library: str, ref: Any, cand: Any) -> str | None:
        """None when the library finds the frames equal, else its message."""
        testing = _testing(library)
        series = type(ref).__name__ == "Series"
        check = testing.assert_series_equal if series else testing.assert_frame_equal
        accepted = inspect.signature(check).parameters
        options: dict[str, Any] = {"check_exact": False}
        for names, value in ((("rel_tol", "rtol"), self.rtol), (("abs_tol", "atol"), self.atol),
                             (("check_dtypes", "check_dtype"), self.check_dtypes)):
            options.update({n: value for n in names if n in accepted})  # old or new name
        if not self.check_order:
            options.update({k: False for k in ("check_row_order", "check_column_order",
                                               "check_order") if k in accepted})
            if "check_like" in accepted:
                options["check_like"] = True
        try:
            check(cand, ref, **options)  # the reference second: tolerances are of its values
        except AssertionError as exc:
            return str(exc) or "frames differ"
        return None


def _cut(message: str, most: int = 300) -> str:
    """A library's message on one line, at most ``most`` characters."""
    text = " ".join(line.strip() for line in message.strip().splitlines() if line.strip())
    return text if len(text) <= most else text[: most - 3] + "..."


def frame_equal(rtol: float = 1e-5, atol: float = 1e-8, *, check_dtypes: bool = True,
                check_order: bool = True) -> FrameEqual:
    """The predicate: frames equal under the library's ``assert_frame_equal`` with these
    tolerances; ``frame_equal(rtol=1e-6, check_order=False)``."""
    return FrameEqual(rtol, atol, check_dtypes, check_order)


#: Frames equal with the libraries' default tolerances (rtol 1e-5, atol 1e-8).
frames = FrameEqual()
