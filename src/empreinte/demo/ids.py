"""Deterministic, collision-free identifiers that do not reveal who they belong to.

An id built as f"{person}-{n}" would let identity resolution "cheat" by parsing it, so every
id is the person index and a counter packed into 64 bits and passed through a bijective mixer
(MurmurHash3's finaliser): distinct inputs give distinct ids, and the ids look random.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1


def _mix64(x: int) -> int:
    x = ((x ^ (x >> 33)) * 0xFF51AFD7ED558CCD) & _MASK
    x = ((x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53) & _MASK
    return x ^ (x >> 33)


def unique_hex(seed: int, kind: int, index: int, counter: int) -> str:
    """16 hex digits, unique per (kind < 4, index < 2**40, counter < 2**22) for one seed."""
    packed = (kind << 62) | ((index & ((1 << 40) - 1)) << 22) | (counter & ((1 << 22) - 1))
    salt = (seed * 0x9E3779B97F4A7C15) & _MASK
    return f"{_mix64(packed ^ salt):016x}"
