"""``cosine`` and ``embeddings``: vectors pointing the same way, row by row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.predicates.checks import check_threshold
from workbench.predicates.result import EquivalenceResult, materialize

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Cosine", "cosine", "cosines", "embeddings"]


def cosines(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The cosine of each row of ``a`` with the same row of ``b``, in float64: 1 for
    identical rows (two zero rows too), 0 when one row is zero and the other is not,
    NaN for a row with a NaN."""
    import numpy as np

    x, y = a.astype(np.float64), b.astype(np.float64)
    norms = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
    with np.errstate(all="ignore"):
        out = np.einsum("ij,ij->i", x, y) / np.where(norms == 0, 1.0, norms)
    out = np.where(np.isnan(out), out, np.clip(out, -1.0, 1.0))
    identical = np.all(x == y, axis=1)
    result: npt.NDArray[np.float64] = np.where(identical, 1.0, out)
    return result


@dataclass(frozen=True, slots=True)
class Cosine:
    """Two ``(n, d)`` matrices (or two vectors) of the same shape whose rows each have a
    cosine >= ``threshold`` with the same row of the other. Symmetric. A row with a NaN
    never passes; two zero rows count as the same. ``worst`` is the smallest cosine."""

    threshold: float = 0.99

    def __post_init__(self) -> None:
        check_threshold("cosine()", self.threshold)

    def __call__(self, reference: Any, candidate: Any, *, variant: str,
                 params: Mapping[str, Any]) -> EquivalenceResult:
        import numpy as np

        a = np.asarray(materialize(reference))
        b = np.asarray(materialize(candidate))
        a, b = (a[None, :], b[None, :]) if a.ndim == 1 and b.ndim == 1 else (a, b)
        if a.ndim != 2 or a.shape != b.shape or a.dtype.kind not in "iuf" or (
                b.dtype.kind not in "iuf"):
            return EquivalenceResult(
                False, f"cosine compares vectors or (n, d) matrices of numbers of one shape; "
                       f"pure gave {a.dtype} {a.shape}, {variant} {b.dtype} {b.shape}")
        if a.shape[0] == 0:
            return EquivalenceResult(True, "no vectors (empty input)")
        cos = cosines(a, b)
        low = ~(cos >= self.threshold)
        at = int(np.argmin(np.where(np.isnan(cos), -np.inf, cos)))
        worst = float(cos[at])
        detail = (f"min cosine {worst:.5f} at row {at} (needs >= {self.threshold:g})"
                  if not np.isnan(worst) else f"row {at} has a NaN (needs cosine >= "
                                               f"{self.threshold:g})")
        count = int(low.sum())
        if count:
            first = int(np.flatnonzero(low)[0])
            detail += f"; {count:,} of {len(cos):,} rows below, the first row {first}"
        return EquivalenceResult(not count, detail, worst)


def cosine(threshold: float = 0.99) -> Cosine:
    """The predicate: every row's cosine with pure's row >= ``threshold`` (in (0, 1]);
    ``cosine(0.999)``."""
    return Cosine(threshold)


#: Embeddings that point the same way: ``cosine(0.99)``, per row.
embeddings = Cosine()
