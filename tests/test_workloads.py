"""Workloads in the core: declaration, registry, NAME@N, loading and its failures."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import (
    ExecutionError,
    InvalidInputError,
    UnknownNameError,
    Workload,
    get_workload,
    register_workload,
    workload,
)
from workbench.workloads import workload_names


def _rows(n: int, seed: int) -> tuple[float, ...]:
    rng = random.Random(seed)
    return tuple(rng.random() for _ in range(n))


MODULE_LEVEL = register_workload(Workload("wl-mod", _rows, 5, "five floats", 1))


def test_the_decorator_registers_a_function_of_n_and_passes_the_seed() -> None:
    @workload("wl-rows", size=30, seed=7)
    def rows(n: int, seed: int) -> tuple[float, ...]:
        """Thirty seeded floats."""
        return _rows(n, seed)

    assert isinstance(rows, Workload) and "wl-rows" in workload_names()
    assert rows.description == "Thirty seeded floats." and rows.module == __name__
    assert rows.load() == _rows(30, 7)
    assert get_workload("wl-rows").load() is rows.load()  # loaded once per process


def test_a_function_without_a_seed_parameter_gets_only_n() -> None:
    w = register_workload(Workload("wl-plain", lambda n: tuple(range(n)), 5, "0..n-1"))
    assert w.load() == (0, 1, 2, 3, 4)


@given(n=st.integers(1, 300), m=st.integers(1, 300))
def test_resized_workloads_keep_make_and_seed(n: int, m: int) -> None:
    base = register_workload(Workload("wl-sized", _rows, 10, "", 3), replace=True)
    sized = get_workload(f"wl-sized@{n}")
    assert sized.name == f"wl-sized@{n}" and sized.size == n and sized.seed == 3
    assert sized.load() == _rows(n, 3)
    assert sized.with_size(m) == base.with_size(m)  # resizing twice: only the last size counts
    assert sized.load()[: min(n, m)] == get_workload(f"wl-sized@{m}").load()[: min(n, m)]


def test_an_iterator_is_materialized_once() -> None:
    def gen(n: int) -> Iterator[int]:
        return iter(range(n))

    w = Workload("wl-iter", gen, 4)
    assert w.load() == (0, 1, 2, 3) and w.load() == (0, 1, 2, 3)


def test_a_failing_or_empty_workload_is_a_clear_error() -> None:
    def broken(n: int) -> tuple[int, ...]:
        raise OSError("the data file is missing")

    with pytest.raises(ExecutionError,
                       match=r"workload 'wl-broken': make\(3\) raised OSError: the data file"):
        Workload("wl-broken", broken, 3).load()
    with pytest.raises(InvalidInputError, match=r"'wl-empty': make\(2, seed=0\) returned an "
                                                r"empty value \(\(\)\)"):
        Workload("wl-empty", lambda n, seed: (), 2).load()
    with pytest.raises(InvalidInputError, match="returned an empty value"):
        Workload("wl-none", lambda n: None, 2).load()


def test_redefinition_needs_replace_unless_the_same_function_defines_it_again() -> None:
    def make(n: int) -> tuple[int, ...]:
        return (1,) * n

    register_workload(Workload("wl-twice", make, 2))
    register_workload(Workload("wl-twice", make, 3))  # a re-run notebook cell: fine
    assert get_workload("wl-twice").size == 3
    with pytest.raises(InvalidInputError, match=r"'wl-twice' exists .*pass replace=True"):
        register_workload(Workload("wl-twice", lambda n: (2,) * n, 2))
    register_workload(Workload("wl-twice", lambda n: (2,) * n, 2), replace=True)
    assert get_workload("wl-twice").load() == (2, 2)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Workload("Bad Name", _rows, 1), "workload name 'Bad Name' must be"),
        (lambda: Workload("wl-x", _rows, 0), "a size must be an integer >= 1; got 0"),
        (lambda: Workload("wl-x", _rows, 1, seed="1"), "seed must be an integer"),  # type: ignore[arg-type]
        (lambda: Workload("wl-x", 42, 1), "make must be a function of n"),  # type: ignore[arg-type]
        (lambda: get_workload("wl-mod@zero"), "the size after '@' must be a positive integer"),
        (lambda: register_workload(Workload("wl-a@3", _rows, 1)), "not a resized 'wl-a@3'"),
    ],
)
def test_bad_declarations_are_refused(make: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make()  # type: ignore[operator]


def test_an_unknown_name_lists_the_known_ones_and_where_it_looked() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_workload("nowhere", looked_in=("mypipe", "mypipe.data"))
    text = str(info.value)
    assert "unknown workload 'nowhere'" in text and "(looked in the modules mypipe, " \
        "mypipe.data)" in text
