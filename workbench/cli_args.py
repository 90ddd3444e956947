"""argparse value types shared by the CLI's subcommands: each names the bad value."""

from __future__ import annotations

import argparse

__all__ = [
    "non_negative_int", "non_negative_seconds", "positive_float", "positive_int", "selection",
    "sizes",
]


def _number(text: str, kind: type[int] | type[float], what: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    value = int(_number(text, int, "a positive integer"))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(_number(text, int, "an integer >= 0"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float, "a number > 0")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def non_negative_seconds(text: str) -> float:
    value = _number(text, float, "seconds >= 0")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def sizes(text: str) -> list[int]:
    """Comma-separated document counts, at least 3 distinct positive ones."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers, got {text!r}") from None
    if len(set(values)) < 3 or min(values) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected at least 3 distinct positive sizes, got {text!r}")
    return values


def selection(text: str) -> tuple[str, str]:
    """``STAGE=VARIANT`` -> (stage, variant)."""
    stage, eq, variant = text.partition("=")
    if not eq or not stage.strip() or not variant.strip():
        raise argparse.ArgumentTypeError(f"expected STAGE=VARIANT (e.g. chunk=native); "
                                         f"got {text!r}")
    return stage.strip(), variant.strip()
