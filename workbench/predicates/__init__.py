"""Equivalence predicates: when a variant's output counts as the same as pure's.

Each is declared in one word, ``@stage(..., equivalence=floats)``, and has the
:class:`Equivalence` signature ``(reference, candidate, *, variant, params) ->
EquivalenceResult``. Every one says in ``detail`` how the outputs differ: the first
differing place and both values, how many items differ, and the largest absolute and
relative difference between numbers.

========================  =====================================================
``exact``                 equal values in the same structure (the default)
``floats``, ``close()``   numbers within ``math.isclose`` rel/abs tolerances
``arrays``, ``allclose()``  NumPy arrays within ``numpy.allclose`` tolerances
``frames``, ``frame_equal()``  Polars/pandas frames, the library's assert_frame_equal
``embeddings``, ``cosine()``  per-row cosine >= threshold
``same_items``            the same items with the same counts, in any order
========================  =====================================================

NumPy, Polars and pandas are imported when a predicate that needs them first runs.
"""

from __future__ import annotations

from workbench.predicates.arrays import AllClose, allclose, arrays
from workbench.predicates.exact import exact
from workbench.predicates.frames import FrameEqual, frame_equal, frames
from workbench.predicates.items import same_items
from workbench.predicates.numbers import Close, close, floats
from workbench.predicates.result import Equivalence, EquivalenceResult, materialize
from workbench.predicates.vectors import Cosine, cosine, embeddings

__all__ = [
    "AllClose",
    "Close",
    "Cosine",
    "Equivalence",
    "EquivalenceResult",
    "FrameEqual",
    "allclose",
    "arrays",
    "close",
    "cosine",
    "embeddings",
    "exact",
    "floats",
    "frame_equal",
    "frames",
    "materialize",
    "same_items",
]
