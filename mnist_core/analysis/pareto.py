"""The accuracy / size trade-off: which models no other model beats on both counts."""
from __future__ import annotations


def pareto_front(points: list[tuple[str, int, float]]) -> list[str]:
    """Names of (name, params, accuracy) points not dominated (fewer-or-equal params and
    higher-or-equal accuracy, one strictly) by any other, ordered by params."""
    front = []
    for name, params, accuracy in points:
        dominated = any(p <= params and a >= accuracy and (p < params or a > accuracy)
                        for _, p, a in points)
        if not dominated:
            front.append((params, name))
    return [name for _, name in sorted(front)]
