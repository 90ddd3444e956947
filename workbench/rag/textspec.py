"""The character classes the clean stage is defined by, shared by all its variants.

clean(text) =
  1. drop control characters (Unicode category Cc) that are not white space;
  2. Unicode NFKC normalization;
  3. lowercase (``str.lower``: full case mapping, final sigma), then NFKC again;
  4. collapse runs of white space (Unicode ``White_Space``) to one U+0020, strip both ends.

Controls go first because removing one between a base letter and a combining mark
would otherwise let a second NFKC pass compose them (clean would not be idempotent), and
NFKC follows lowercasing for the same reason: "T" + U+0308 has no composed capital, but
its lowercase "t" + U+0308 composes to U+1E97.
"""

from __future__ import annotations

__all__ = [
    "CONTROL_RANGES",
    "WHITESPACE_RANGES",
    "control_regex",
    "drop_controls_table",
    "whitespace_regex",
]

#: Cc code points that are not White_Space: removed.
CONTROL_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x08), (0x0E, 0x1F), (0x7F, 0x84), (0x86, 0x9F),
)

#: The Unicode White_Space property (stable since Unicode 6.3).
WHITESPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
    (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
    (0x3000, 0x3000),
)


def drop_controls_table() -> dict[int, None]:
    """A ``str.translate`` table that deletes the control characters."""
    return {c: None for lo, hi in CONTROL_RANGES for c in range(lo, hi + 1)}


def _regex_class(ranges: tuple[tuple[int, int], ...]) -> str:
    parts = (f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in ranges)
    return "[" + "".join(parts) + "]"


def control_regex() -> str:
    """A Rust-regex (Polars) character class matching one control character."""
    return _regex_class(CONTROL_RANGES)


def whitespace_regex() -> str:
    """A Rust-regex (Polars) pattern matching a run of white space."""
    return _regex_class(WHITESPACE_RANGES) + "+"
