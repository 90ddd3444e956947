"""The measurement engine: warmed, repeated, isolated measurements and their statistics."""
