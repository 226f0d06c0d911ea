"""Charts of outcome scores over time (SVG or PNG via matplotlib), for reports and the web app.

Each score gets its own panel: the person's values, a shaded band of +/- one MCID around the
starting value (an improvement counts from its edge), the follow-up check points and, when a score
got worse, the line past which it counts as worse (from the best score after an improvement, else
from the start, by the engine's threshold) and the first visit beyond it. SVG output is
deterministic (fixed hash salt, no date) so it can be compared.
"""

import io
from pathlib import Path
from typing import Any

from fusionwatch.core.derive.trajectory import MCID, PATTERN_TEXT, SDC, Pattern, Point, Trajectory
from fusionwatch.core.followup import CONCERNING, FollowUpResult
from fusionwatch.core.scores import INSTRUMENT_LABEL, Instrument
from fusionwatch.report import chartlabels

FORMATS = (".svg", ".png")
# A pre-operative value is drawn left of the operation, whatever its date, so it always shows.
BASELINE_X = -1.5
# Any: matplotlib types rcParams keys as literals; these are all valid keys.
STYLE: Any = {
    "svg.hashsalt": "fusionwatch",
    "svg.fonttype": "none",
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "legend.fontsize": 12,
    "font.family": "DejaVu Sans",
}
_SERIES, _BAND, _CHECK, _WORSE = "#1f5fa8", "#9ecae1", "#6b6b6b", "#c0392b"
_TICK_SIZE, _NAME_SIZE = 13, 11
# Legend wording: each says what the engine does, never more (decision 0004).
BAND_LABEL = "Start +/- one MCID: improvement counts from its edge"
LIMIT_LABEL = "Counts as worse from the dashed line"
BEST_LABEL = "Best score"
FIRST_WORSE_LABEL = {
    Pattern.IMPROVED_THEN_WORSENED: "First visit worse than the best by the threshold",
    Pattern.WORSENING: "First visit worse than the start by the threshold",
}
_SHORT = {MCID: "MCID", SDC: "SDC"}


def write(result: FollowUpResult, path: Path, title: str | None = None) -> None:
    """Render every score of a follow-up result into one SVG or PNG file."""
    path.write_bytes(render(result, path.suffix.lower().lstrip("."), title))


def render(result: FollowUpResult, kind: str, title: str | None = None) -> bytes:
    """The chart as SVG or PNG bytes (for the web app and reports)."""
    import matplotlib as mpl  # noqa: PLC0415  (only charting pays for matplotlib)

    mpl.use("Agg")
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        figure = build(result, title)
        metadata = {"Date": None} if kind == "svg" else None
        figure.savefig(buffer, format=kind, metadata=metadata, dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def build(result: FollowUpResult, title: str | None = None) -> Any:
    """The chart as a matplotlib figure (call inside the chart style, see ``render``)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    shown = result.trajectories
    figure = Figure(figsize=(10, 1.2 + 3.4 * len(shown)), layout="constrained")
    axes = figure.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    last = max(p.month for t in shown for p in t.points)
    right = max(last, *(m.month for m in result.milestones if m.status != "later")) + 1
    for ax, t in zip(axes, shown, strict=True):
        _panel(ax, t, result, right)
    # Label rows depend on the drawn width of the axes, known only after a layout pass.
    figure.draw_without_rendering()
    per_month = _points_per_month(axes[-1])
    rows = _milestone_names(axes[0], result, right, per_month)
    for ax, t in zip(axes, shown, strict=True):
        _title(ax, t, pad=6 + rows * _NAME_SIZE * 1.3 if ax is axes[0] else 6)
    axes[-1].set_xlabel("Months after surgery")
    _xticks(axes[-1], right, per_month)
    figure.suptitle(f"Recovery over time{f' - {title}' if title else ''}", fontsize=16)
    # Dotted lines are the usual check points, named along the top of the first panel.
    handles, labels = _legend_entries(axes)
    figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    return figure


def _points_per_month(ax: Any) -> float:
    width = ax.get_window_extent().width * 72 / ax.figure.dpi
    low, high = ax.get_xlim()
    return float(width / (high - low))


def _milestone_names(ax: Any, result: FollowUpResult, right: float, per_month: float) -> int:
    """Name the check points above the first panel, stacked where close; the rows used."""
    shown = [m for m in result.milestones if m.month <= right]
    names = [m.name for m in shown]
    rows = chartlabels.rows([m.month for m in shown], names, _NAME_SIZE, per_month)
    for m, row in zip(shown, rows, strict=True):
        text = ax.annotate(
            m.name,
            (m.month, 1.0),
            xycoords=ax.get_xaxis_transform(),
            xytext=(0, 2 + row * _NAME_SIZE * 1.3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=_NAME_SIZE,
        )
        text.set_gid(f"milestone-name-{m.name.replace(' ', '-')}")
    return max(rows, default=-1) + 1


def _panel(ax: Any, t: Trajectory, result: FollowUpResult, right: float) -> None:
    instrument = Instrument(t.instrument)
    xs = [_x(p) for p in t.points]
    ys = [p.value for p in t.points]
    if t.mcid is not None and t.reference is not None:
        low, high = t.reference.value - t.mcid, t.reference.value + t.mcid
        band = ax.axhspan(low, high, color=_BAND, alpha=0.45, lw=0)
        band.set_gid(f"mcid-band-{instrument.value}")
        band.set_label(BAND_LABEL)
    ax.axvline(0, color="black", lw=1.5, alpha=0.6, label="Surgery").set_gid("operation")
    for m in result.milestones:
        line = ax.axvline(m.month, color=_CHECK, ls=":", lw=1.2)
        line.set_gid(f"milestone-{m.name.replace(' ', '-')}")
        line.set_label("Usual follow-up check")
    (series,) = ax.plot(xs, ys, marker="o", ms=8, lw=2.5, color=_SERIES, label="Your score")
    series.set_gid(f"series-{instrument.value}")
    _worsening(ax, t, right)
    better = "higher is better" if t.higher_is_better else "lower is better"
    ax.set_ylabel(f"score\n({better})")
    ax.set_xlim(BASELINE_X - 1, right)
    ax.grid(axis="y", alpha=0.3)
    arrow = "\u2191" if t.higher_is_better else "\u2193"
    ax.text(1.01, 0.5, f"better {arrow}", transform=ax.transAxes, rotation=90, va="center")


def _title(ax: Any, t: Trajectory, pad: float) -> None:
    pattern = Pattern(t.pattern)
    # The patterns that raise a sign get a red title, so they stand out at a glance.
    colour = _WORSE if pattern.value in CONCERNING else "black"
    name = f"{INSTRUMENT_LABEL[Instrument(t.instrument)]}: {PATTERN_TEXT[pattern]}"
    ax.set_title(name, loc="left", color=colour, pad=pad)


def _x(point: Point) -> float:
    return BASELINE_X if point.baseline else point.month


def _worsening(ax: Any, t: Trajectory, right: float) -> None:
    """The line past which the score counts as worse, the best score, and the first visit past it.

    After an improvement the engine judges the fall from the best score by ``relapse_limit``;
    otherwise the fall from the start by the individual threshold. The marker is where that fall
    was first seen, which is what the knowledge base's relapse month means.
    """
    pattern = Pattern(t.pattern)
    if pattern not in FIRST_WORSE_LABEL or t.worsening_month is None:
        return
    relapse = pattern is Pattern.IMPROVED_THEN_WORSENED
    anchor, limit = (t.best, t.relapse_limit) if relapse else (t.reference, _start_limit(t))
    if anchor is None or limit is None:
        return
    step, basis = limit
    sign = -1.0 if t.higher_is_better else 1.0
    level = anchor.value + sign * step
    ax.hlines(level, _x(anchor), right, colors=_WORSE, linestyles="--", lw=1.5, label=LIMIT_LABEL)
    words = f"{'best' if relapse else 'start'} {anchor.value:g} {'-' if sign < 0 else '+'} {step:g}"
    ax.annotate(
        f"{words} ({_SHORT[basis]})",
        (right, level),
        xytext=(-4, -4 if sign > 0 else 4),
        textcoords="offset points",
        ha="right",
        va="top" if sign > 0 else "bottom",
        color=_WORSE,
        fontsize=_NAME_SIZE,
    ).set_gid(f"worse-limit-{t.instrument}")
    if relapse:
        (best,) = ax.plot(_x(anchor), anchor.value, "s", ms=14, mfc="none", mec="black", mew=2)
        best.set_gid(f"best-{t.instrument}")
        best.set_label(BEST_LABEL)
    first = next(p for p in t.points if not p.baseline and p.month == t.worsening_month)
    (mark,) = ax.plot(first.month, first.value, "o", ms=15, mfc="none", mec=_WORSE, mew=2.5)
    mark.set_gid(f"worsening-{t.instrument}")
    mark.set_label(FIRST_WORSE_LABEL[pattern])


def _start_limit(t: Trajectory) -> tuple[float, str] | None:
    return None if t.threshold is None or t.basis is None else (t.threshold, t.basis)


def _xticks(ax: Any, right: float, per_month: float) -> None:
    step = chartlabels.month_step(per_month, _TICK_SIZE)
    # The operation line is named in the legend, so month 0 needs no tick of its own.
    ticks = [BASELINE_X, *range(step, int(right) + 1, step)]
    labels = ["before\nsurgery", *(str(t) for t in ticks[1:])]
    rows = chartlabels.rows(ticks, labels, _TICK_SIZE, per_month)
    ax.set_xticks(ticks, ["\n" * row + label for row, label in zip(rows, labels, strict=True)])


def _legend_entries(axes: Any) -> tuple[list[Any], list[str]]:
    found: dict[str, Any] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        for handle, label in zip(handles, labels, strict=True):
            found.setdefault(label, handle)
    return list(found.values()), list(found.keys())
