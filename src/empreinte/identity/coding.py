"""Vectorised grouping helpers shared by the rebuild and the loading of the resolver's state."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Hashes = npt.NDArray[np.uint64]


def factorise(hashes: Hashes, check: Hashes) -> tuple[IntArray, BoolArray, IntArray]:
    """Group equal values, given two independent 64-bit hashes of each, into codes 0..m-1
    numbered in order of first appearance.

    Returns (code per entry, mask of each code's first entry, position of each code's last
    entry). Entries are grouped by their first hash with one vectorised sort of (hash high
    bits | position) values; a group whose second hash is not uniform (a collision of the
    first hash, or of its high bits) is split by the second hash. Two different values would
    have to collide on both 64-bit hashes to be confused (about n² / 2¹²⁸).
    """
    n = len(hashes)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.zeros(0, dtype=np.bool_), np.empty(0, np.int64)
    bits = max(1, (n - 1).bit_length())
    low = np.uint64((1 << bits) - 1)
    packed = (hashes & ~low) | np.arange(n, dtype=np.uint64)
    packed.sort()  # by hash high bits, then position: each group in order of appearance
    where = (packed & low).astype(np.int64)
    shift = np.uint64(bits)
    change = (packed[1:] >> shift) != (packed[:-1] >> shift)
    second = check[where]
    split = (second[1:] != second[:-1]) & ~change
    if split.any():
        group = np.concatenate(([0], np.cumsum(change)))
        marked = np.zeros(int(group[-1]) + 1, dtype=np.bool_)
        marked[group[1:][split]] = True
        sub = np.flatnonzero(marked[group])
        order = np.lexsort((where[sub], second[sub], group[sub]))
        where[sub] = where[sub][order]
        second[sub] = second[sub][order]
        change |= second[1:] != second[:-1]
    new = np.concatenate(([True], change))
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    first_of_group = where[starts]
    first = np.zeros(n, dtype=np.bool_)
    first[first_of_group] = True
    code_of_group = (np.cumsum(first) - 1)[first_of_group]
    codes = np.empty(n, dtype=np.int64)
    codes[where] = np.repeat(code_of_group, ends - starts)
    last = np.empty(len(starts), dtype=np.int64)
    last[code_of_group] = where[ends - 1]
    return codes, first, last


def founders(
    first_seq: IntArray,
    rank: npt.NDArray[np.int8],
    labels: IntArray,
    count: int,
    keys: pa.Array | pa.ChunkedArray,
) -> IntArray:
    """For each of `count` groups (`labels` per key), the key that founded it: the smallest
    by (first seq, type rank, key text). Ties on (first seq, rank) are rare (two keys of one
    type first seen in one event) and settled on the text."""
    types = int(rank.max()) + 1 if len(rank) else 1
    score = first_seq * types + rank
    best = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, labels, score)
    candidates = np.flatnonzero(score == best[labels])
    chosen = np.empty(count, dtype=np.int64)
    chosen[labels[candidates]] = candidates
    per_label = np.bincount(labels[candidates], minlength=count)
    tied = candidates[per_label[labels[candidates]] > 1]
    if len(tied):
        best_text: dict[int, tuple[str, int]] = {}
        texts = keys.take(pa.array(tied)).to_pylist()
        for code, text in zip(tied.tolist(), texts, strict=True):
            label = int(labels[code])
            if label not in best_text or text < best_text[label][0]:
                best_text[label] = (text, code)
        for label, (_, code) in best_text.items():
            chosen[label] = code
    return chosen
