"""Vertebrae and motion segments: level names such as ``L4-L5``, spans such as ``T10-pelvis``.

A fusion may end in the pelvis (sacropelvic or iliac fixation), so the column ends with a
``pelvis`` node after S1; it joins segments but is not a vertebra (it is never counted as one).
"""

from fusionwatch.core.vocab import Region

PELVIS = "pelvis"
VERTEBRAE: tuple[str, ...] = (
    *(f"C{i}" for i in range(1, 8)),
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 6)),
    "S1",
    PELVIS,
)
_INDEX = {name.upper(): i for i, name in enumerate(VERTEBRAE)}
_ALIASES = {"ILIUM": PELVIS.upper(), "ILIAC": PELVIS.upper(), "SACRUM": "S1"}

_CERVICAL = frozenset({*(f"C{i}" for i in range(1, 8)), "T1"})
_THORACIC = frozenset({"C7", *(f"T{i}" for i in range(1, 13)), "L1"})
_LUMBAR = frozenset({"T12", *(f"L{i}" for i in range(1, 6)), "S1", PELVIS})

# Vertebrae a region's fusion may touch (junctional levels such as C7-T1 or T12-L1 belong to both).
REGION_VERTEBRAE: dict[Region, frozenset[str]] = {
    Region.CERVICAL: _CERVICAL,
    Region.THORACIC: _THORACIC,
    Region.LUMBAR: _LUMBAR,
    Region.LUMBOSACRAL: frozenset({*(f"L{i}" for i in range(1, 6)), "S1", PELVIS}),
    Region.CERVICOTHORACIC: _CERVICAL | _THORACIC,
    Region.THORACOLUMBAR: _THORACIC | _LUMBAR,
}

LEVEL_HELP = (
    "a motion segment such as L4-L5 or C5-C6, or a span such as L4-S1 or T10-pelvis "
    "(C1 to S1, then pelvis)"
)


def parse_level(text: str) -> tuple[str, ...]:
    """Return the adjacent segments a level name covers, e.g. ``L4-S1`` -> (L4-L5, L5-S1)."""
    parts = [_ALIASES.get(p, p) for p in text.strip().upper().replace("–", "-").split("-")]
    if len(parts) != 2 or parts[0] not in _INDEX or parts[1] not in _INDEX:
        raise ValueError(f"unknown level {text!r}; expected {LEVEL_HELP}")
    top, bottom = _INDEX[parts[0]], _INDEX[parts[1]]
    if bottom <= top:
        raise ValueError(f"level {text!r} must run from the upper to the lower vertebra")
    return tuple(f"{VERTEBRAE[i]}-{VERTEBRAE[i + 1]}" for i in range(top, bottom))


def vertebrae_of(segments: tuple[str, ...]) -> frozenset[str]:
    """The distinct vertebrae joined by a set of segments (the pelvis is not a vertebra)."""
    return frozenset(v for seg in segments for v in seg.split("-") if v != PELVIS)


def _position(segment: str) -> int:
    return _INDEX[segment.split("-", maxsplit=1)[0].upper()]


def adjacent_segments(fused: tuple[str, ...]) -> dict[str, str]:
    """The unfused segments just above and below each fused block: segment -> above/below/between.

    These are the segments where adjacent-segment degeneration or disease is found (evidence 18).
    """
    taken = {_position(s) for s in fused}
    if not taken:
        return {}
    top, bottom = min(taken), max(taken)
    found: dict[int, str] = {}
    for i in sorted(taken):
        for j in (i - 1, i + 1):
            if 0 <= j < len(VERTEBRAE) - 1 and j not in taken:
                found[j] = "above" if j < top else "below" if j > bottom else "between"
    return {f"{VERTEBRAE[j]}-{VERTEBRAE[j + 1]}": found[j] for j in sorted(found)}


def sort_segments(segments: set[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Segments from head to pelvis."""
    return tuple(sorted(set(segments), key=_position))


def span_text(segments: tuple[str, ...]) -> str:
    """Segments as short spans, e.g. (T10-T11, T11-T12, L4-L5) -> 'T10-T12, L4-L5'."""
    runs: list[list[int]] = []
    for i in sorted({_position(s) for s in segments}):
        if runs and runs[-1][1] == i:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return ", ".join(f"{VERTEBRAE[a]}-{VERTEBRAE[b]}" for a, b in runs)
