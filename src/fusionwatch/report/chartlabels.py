"""Where the chart's time labels go: labels too close to share a line are stacked in rows.

Check points can be six weeks apart (6 weeks, 3 months), and a pre-operative score is drawn just
left of the operation, so their names would collide on a long time axis. Widths are estimated
from the character count, which is enough to keep a gap; nothing here draws.
"""

from collections.abc import Sequence

# DejaVu Sans averages about 0.6 em a character; a little more, plus a gap, keeps labels apart.
_EM_PER_CHAR = 0.65
_GAP_POINTS = 6.0
# Numbered month ticks: every 3 months, or fewer when the axis is too crowded for that.
MONTH_STEPS = (3, 6, 12)


def width(label: str, fontsize: float) -> float:
    """Estimated width in points of the label's widest line, with a gap."""
    return max(len(line) for line in label.split("\n")) * fontsize * _EM_PER_CHAR + _GAP_POINTS


def rows(
    xs: Sequence[float], labels: Sequence[str], fontsize: float, points_per_unit: float
) -> list[int]:
    """The row of each label (0 nearest the axis) so that no two labels overlap.

    A label of several lines fills that many rows; a later label moves away from the axis until
    the rows it needs are free wherever it overlaps an earlier one sideways.
    """
    placed: list[tuple[float, float, range]] = []
    found: list[int] = []
    for x, label in zip(xs, labels, strict=True):
        half = width(label, fontsize) / points_per_unit / 2
        left, right = x - half, x + half
        lines = label.count("\n") + 1
        row = 0
        while any(
            a < right and left < b and row < used.stop and used.start < row + lines
            for a, b, used in placed
        ):
            row += 1
        placed.append((left, right, range(row, row + lines)))
        found.append(row)
    return found


def month_step(points_per_month: float, fontsize: float) -> int:
    """The shortest step between numbered month ticks whose two-digit labels do not touch."""
    wide = width("00", fontsize)
    return next((s for s in MONTH_STEPS if s * points_per_month >= wide), MONTH_STEPS[-1])
