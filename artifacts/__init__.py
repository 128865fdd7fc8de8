"""Deterministic, content-hashed build of the functions and layers (see build.py)."""
