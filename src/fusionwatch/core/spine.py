"""Vertebrae and motion segments: parse level names such as ``L4-L5`` or spans such as ``L4-S1``."""

from fusionwatch.core.vocab import Region

VERTEBRAE: tuple[str, ...] = (
    *(f"C{i}" for i in range(1, 8)),
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 6)),
    "S1",
)
_INDEX = {name: i for i, name in enumerate(VERTEBRAE)}

# Vertebrae a region's fusion may touch (junctional levels such as C7-T1 or T12-L1 belong to both).
REGION_VERTEBRAE: dict[Region, frozenset[str]] = {
    Region.CERVICAL: frozenset({*(f"C{i}" for i in range(1, 8)), "T1"}),
    Region.THORACIC: frozenset({"C7", *(f"T{i}" for i in range(1, 13)), "L1"}),
    Region.LUMBAR: frozenset({"T12", *(f"L{i}" for i in range(1, 6)), "S1"}),
    Region.LUMBOSACRAL: frozenset({*(f"L{i}" for i in range(1, 6)), "S1"}),
}

LEVEL_HELP = "a motion segment such as L4-L5 or C5-C6, or a span such as L4-S1 (C1 to S1)"


def parse_level(text: str) -> tuple[str, ...]:
    """Return the adjacent segments a level name covers, e.g. ``L4-S1`` -> (L4-L5, L5-S1)."""
    parts = text.strip().upper().replace("–", "-").split("-")
    if len(parts) != 2 or parts[0] not in _INDEX or parts[1] not in _INDEX:
        raise ValueError(f"unknown level {text!r}; expected {LEVEL_HELP}")
    top, bottom = _INDEX[parts[0]], _INDEX[parts[1]]
    if bottom <= top:
        raise ValueError(f"level {text!r} must run from the upper to the lower vertebra")
    return tuple(f"{VERTEBRAE[i]}-{VERTEBRAE[i + 1]}" for i in range(top, bottom))


def vertebrae_of(segments: tuple[str, ...]) -> frozenset[str]:
    """The distinct vertebrae joined by a set of segments."""
    return frozenset(v for seg in segments for v in seg.split("-"))
