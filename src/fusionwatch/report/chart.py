"""Charts of outcome scores over time (SVG or PNG via matplotlib), for reports and the web app.

Each score gets its own panel: the person's values, a shaded band of +/- one MCID around the
starting value (changes inside it are too small to matter), the follow-up check points, and where
a worsening began. SVG output is deterministic (fixed hash salt, no date) so it can be compared.
"""

import io
from pathlib import Path
from typing import Any

from fusionwatch.core.derive.trajectory import PATTERN_TEXT, Pattern, Trajectory
from fusionwatch.core.followup import CONCERNING, FollowUpResult
from fusionwatch.core.scores import INSTRUMENT_LABEL, Instrument

FORMATS = (".svg", ".png")
# A pre-operative value is drawn left of the operation, whatever its date, so it always shows.
BASELINE_X = -1.5
# Any: matplotlib types rcParams keys as literals; these are all valid keys.
_STYLE: Any = {
    "svg.hashsalt": "fusionwatch",
    "svg.fonttype": "none",
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "legend.fontsize": 12,
    "font.family": "DejaVu Sans",
}
_SERIES, _BAND, _CHECK, _WORSE = "#1f5fa8", "#9ecae1", "#6b6b6b", "#c0392b"


def write(result: FollowUpResult, path: Path, title: str | None = None) -> None:
    """Render every score of a follow-up result into one SVG or PNG file."""
    path.write_bytes(render(result, path.suffix.lower().lstrip("."), title))


def render(result: FollowUpResult, kind: str, title: str | None = None) -> bytes:
    """The chart as SVG or PNG bytes (for the web app and reports)."""
    import matplotlib as mpl  # noqa: PLC0415  (only charting pays for matplotlib)

    mpl.use("Agg")
    buffer = io.BytesIO()
    with mpl.rc_context(_STYLE):
        figure = _figure(result, title)
        metadata = {"Date": None} if kind == "svg" else None
        figure.savefig(buffer, format=kind, metadata=metadata, dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _figure(result: FollowUpResult, title: str | None) -> Any:
    from matplotlib.figure import Figure  # noqa: PLC0415

    shown = result.trajectories
    figure = Figure(figsize=(10, 1.2 + 3.4 * len(shown)), layout="constrained")
    axes = figure.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    last = max(p.month for t in shown for p in t.points)
    right = max(last, *(m.month for m in result.milestones if m.status != "later")) + 1
    for ax, t in zip(axes, shown, strict=True):
        _panel(ax, t, result, right)
    for m in result.milestones:
        if m.month <= right:
            top = axes[0].get_xaxis_transform()
            axes[0].text(
                m.month, 1.01, m.name, transform=top, ha="center", va="bottom", fontsize=11
            )
    axes[-1].set_xlabel("Months after surgery")
    _xticks(axes[-1], right)
    figure.suptitle(f"Recovery over time{f' - {title}' if title else ''}", fontsize=16)
    # Dotted lines are the usual check points, named along the top of the first panel.
    handles, labels = _legend_entries(axes)
    figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    return figure


def _panel(ax: Any, t: Trajectory, result: FollowUpResult, right: float) -> None:
    instrument = Instrument(t.instrument)
    xs = [BASELINE_X if p.baseline else p.month for p in t.points]
    ys = [p.value for p in t.points]
    if t.mcid is not None and t.reference is not None:
        low, high = t.reference.value - t.mcid, t.reference.value + t.mcid
        band = ax.axhspan(low, high, color=_BAND, alpha=0.45, lw=0)
        band.set_gid(f"mcid-band-{instrument.value}")
        band.set_label("Start +/- MCID: changes inside are too small to matter")
    ax.axvline(0, color="black", lw=1.5, alpha=0.6).set_gid("operation")
    for m in result.milestones:
        line = ax.axvline(m.month, color=_CHECK, ls=":", lw=1.2)
        line.set_gid(f"milestone-{m.name.replace(' ', '-')}")
        line.set_label("Usual follow-up check")
    (series,) = ax.plot(xs, ys, marker="o", ms=8, lw=2.5, color=_SERIES, label="Your score")
    series.set_gid(f"series-{instrument.value}")
    if t.worsening_month is not None:
        worse = [(x, y) for x, y in zip(xs, ys, strict=True) if x == t.worsening_month]
        (mark,) = ax.plot(*zip(*worse, strict=True), "o", ms=15, mfc="none", mec=_WORSE, mew=2.5)
        mark.set_gid(f"worsening-{instrument.value}")
        mark.set_label("Got worse from here (beyond the threshold)")
    better = "higher is better" if t.higher_is_better else "lower is better"
    pattern = Pattern(t.pattern)
    # The patterns that raise a sign get a red title, so they stand out at a glance.
    colour = _WORSE if pattern.value in CONCERNING else "black"
    name = f"{INSTRUMENT_LABEL[instrument]}: {PATTERN_TEXT[pattern]}"
    ax.set_title(
        name, loc="left", color=colour, pad=18 if ax.get_subplotspec().is_first_row() else 6
    )
    ax.set_ylabel(f"score\n({better})")
    ax.set_xlim(BASELINE_X - 1, right)
    ax.grid(axis="y", alpha=0.3)
    arrow = "\u2191" if t.higher_is_better else "\u2193"
    ax.text(1.01, 0.5, f"better {arrow}", transform=ax.transAxes, rotation=90, va="center")


def _xticks(ax: Any, right: float) -> None:
    ticks = [BASELINE_X, 0, *range(3, int(right) + 1, 3)]
    labels = ["before\nsurgery", "surgery", *(str(t) for t in ticks[2:])]
    ax.set_xticks(ticks, labels)


def _legend_entries(axes: Any) -> tuple[list[Any], list[str]]:
    found: dict[str, Any] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        for handle, label in zip(handles, labels, strict=True):
            found.setdefault(label, handle)
    return list(found.values()), list(found.keys())
