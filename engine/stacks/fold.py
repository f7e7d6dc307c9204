"""Clustering counts a stack once: one representative per stack is fitted, and every member follows it."""

from __future__ import annotations

from collections.abc import Sequence

from engine.catalog import Catalog


def representatives(catalog: Catalog, hashes: Sequence[str]) -> dict[str, str]:
    """Each hash's representative: its stack's cover when the cover is among `hashes` (else the stack's first
    member there), itself when unstacked. Bursts and near copies then weigh once in the fit."""
    wanted = set(hashes)
    stack_of = catalog.stacks.stack_of_hash()
    covers = catalog.stacks.covers()
    first: dict[int, str] = {}
    for hash_ in hashes:
        stack = stack_of.get(hash_)
        if stack is not None:
            first.setdefault(stack, hash_)
    out = {}
    for hash_ in hashes:
        stack = stack_of.get(hash_)
        if stack is None:
            out[hash_] = hash_
        else:
            cover = covers.get(stack)
            out[hash_] = cover if cover in wanted else first[stack]
    return out
