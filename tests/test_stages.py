"""The stage model and pipeline composition, on small user-declared stages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from workbench import InvalidInputError, Pipeline, UnknownNameError, stage
from workbench.stages import exact


def _declare() -> Pipeline:
    @stage(input="Iterable[str]", output="Iterator[str]")
    def upper(lines: Iterable[str], *, suffix: str = "") -> Iterator[str]:
        """Uppercase each line."""
        return (line.upper() + suffix for line in lines)

    @upper.variant("vectorized", materializes_input="list()", materializes_output="list")
    def _upper_batch(lines: Iterable[str], *, suffix: str = "") -> list[str]:
        return [s + suffix for s in "\n".join(lines).upper().split("\n")]

    @stage(input="Iterable[str]", output="Iterator[int]")
    def length(lines: Iterable[str]) -> Iterator[int]:
        return (len(line) for line in lines)

    @length.variant("native", materializes_input="list()")
    def _length_native(lines: Iterable[str]) -> list[int]:
        return list(map(len, list(lines)))

    return Pipeline.of(upper, length, name="toy")


def test_decorator_declares_a_stage_with_params_and_variants() -> None:
    # GIVEN a user's pipeline declared with the decorator API
    pipe = _declare()
    upper = pipe.stage("upper")
    # THEN the stage knows its contract, defaults and variants in display order
    assert upper.input == "Iterable[str]"
    assert dict(upper.defaults) == {"suffix": ""}
    assert upper.variant_names == ("pure", "vectorized")
    assert upper.get("pure").description == "Uppercase each line."
    assert list(upper(["a", "b"], "vectorized", suffix="!")) == ["A!", "B!"]


def test_select_returns_a_new_pipeline_and_leaves_the_old_one_alone() -> None:
    pipe = _declare()
    faster = pipe.select(upper="vectorized")
    assert pipe.selection["upper"] == "pure"
    assert faster.selection["upper"] == "vectorized"
    assert faster is not pipe
    assert list(faster.run(["ab", "c"])) == list(pipe.run(["ab", "c"])) == [2, 1]


def test_unknown_names_list_what_exists() -> None:
    pipe = _declare()
    with pytest.raises(UnknownNameError, match="stage 'nope'; choose one of: upper, length"):
        pipe.select(nope="pure")
    with pytest.raises(
        UnknownNameError, match="variant 'turbo' for stage 'upper'; choose one of: pure, vectorized"
    ):
        pipe.select(upper="turbo")
    with pytest.raises(
        UnknownNameError, match="parameter 'sufix' for stage 'upper'; choose one of: suffix"
    ):
        pipe.configure(upper={"sufix": "!"})
    with pytest.raises(UnknownNameError, match="variant 'gpu'"):
        pipe.select_all("gpu")


def test_configure_is_immutable_and_validated() -> None:
    pipe = _declare()
    loud = pipe.configure(upper={"suffix": "!"})
    assert pipe.params["upper"]["suffix"] == ""
    assert list(loud.run(["a"], until="upper")) == ["A!"]
    with pytest.raises(TypeError):
        loud.params["upper"]["suffix"] = "?"  # type: ignore[index]


def test_fusion_report_names_the_materializing_boundaries() -> None:
    pipe = _declare()
    lazy = pipe.fusion_report()
    assert lazy.breaks == ()
    assert "streams" in lazy.boundaries[0].reason
    broken = pipe.select(upper="vectorized", length="native").fusion_report()
    (b,) = broken.breaks
    assert (b.upstream, b.downstream) == ("upper", "length")
    assert "upper/vectorized materializes its output (list)" in b.reason
    assert "length/native materializes its input (list())" in b.reason
    assert "1 fusion break(s)" in broken.to_text()
    assert broken.to_json()["schema_version"] == 1


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="exactly one positional"):

        @stage(input="a", output="b")
        def two(a: int, b: int) -> int:
            return a + b

    with pytest.raises(InvalidInputError, match="needs a default"):

        @stage(input="a", output="b")
        def no_default(a: int, *, k: int) -> int:
            return a

    @stage(input="a", output="b")
    def fine(a: int) -> int:
        return a

    with pytest.raises(InvalidInputError, match="already has a variant 'pure'"):
        fine.variant("pure")(lambda a: a)
    with pytest.raises(InvalidInputError, match="non-empty identifier"):
        fine.variant("bad name")(lambda a: a)
    with pytest.raises(InvalidInputError, match="unique"):
        Pipeline.of(fine, fine)
    with pytest.raises(InvalidInputError, match="at least one stage"):
        Pipeline.of()


def test_exact_equivalence_reports_the_first_difference() -> None:
    same = exact(iter([1, 2]), [1, 2], variant="x", params={})
    assert not same  # a tuple and a list are different outputs
    ok = exact(iter([1, 2]), iter([1, 2]), variant="x", params={})
    assert ok and ok.detail == "identical output"
    diff = exact((1, 2, 3), (1, 5, 3), variant="native", params={})
    assert not diff and "item 1 differs: pure 2 vs native 5" in diff.detail
