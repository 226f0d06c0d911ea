"""The `fusionwatch imaging` commands: measure segmental motion from two films and landmarks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fusionwatch.cli.exits import ExitCode
from fusionwatch.core.errors import CaseError, Problem

if TYPE_CHECKING:
    from fusionwatch.core.derive.motion import Motion
    from fusionwatch.core.imaging import Landmarks
    from fusionwatch.files.dicom import Spacing

app = typer.Typer(
    rich_markup_mode=None,
    help="Imaging tools: motion on flexion-extension films.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)

Film = Annotated[Path | None, typer.Option(help="DICOM file; its header gives the pixel spacing.")]


@app.command("measure")
def measure_command(
    *,
    level: Annotated[str, typer.Option(help="The motion segment, e.g. L4-L5.")],
    landmarks: Annotated[Path, typer.Option(help="JSON with the corner points on each film.")],
    flexion: Film = None,
    extension: Film = None,
    mm_per_pixel: Annotated[
        float | None,
        typer.Option(
            min=0.001, max=5, help="Calibration (mm per pixel) when the films give no spacing."
        ),
    ] = None,
    motion_cutoff: Annotated[
        float | None,
        typer.Option(min=0.1, max=45, help="Site angular cut-off in degrees (default 5)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Angle and translation between two vertebrae from flexion and extension films."""
    from fusionwatch.core.derive.motion import measure, verdict
    from fusionwatch.knowledge import load
    from fusionwatch.settings import Settings

    try:
        upper, lower = _vertebrae(level)
        spacing = {"flexion": _spacing(flexion), "extension": _spacing(extension)}
        points = _landmarks(landmarks, upper, lower, spacing, mm_per_pixel)
        motion = measure(points)
    except CaseError as error:
        for problem in error.problems:
            err.print(f"[bold red]{problem.field}[/bold red]: {problem.message}")
        raise typer.Exit(ExitCode.INVALID_INPUT) from error
    thresholds = load().thresholds
    site_cutoff = Settings().motion_cutoff_deg
    default = thresholds["motion.angular"] if site_cutoff is None else site_cutoff
    cutoff = default if motion_cutoff is None else motion_cutoff
    lines = verdict(motion, cutoff, thresholds["motion.translation"])
    if level.upper().startswith("C"):
        lines += ("cervical level: interspinous motion is the usual cervical measure",)
    if as_json:
        sys.stdout.write(json.dumps(_data(level, motion, cutoff, lines, spacing), indent=2) + "\n")
        return
    _show(level, motion, cutoff, lines, spacing)


def _vertebrae(level: str) -> tuple[str, str]:
    from fusionwatch.core.spine import parse_level

    try:
        segments = parse_level(level)
    except ValueError as problem:
        raise CaseError([Problem("--level", str(problem))]) from problem
    if len(segments) != 1:
        raise CaseError([Problem("--level", "give one motion segment, such as L4-L5")])
    upper, lower = segments[0].split("-")
    return upper, lower


def _spacing(path: Path | None) -> Spacing | None:
    from fusionwatch.files.dicom import read_spacing  # pydicom loads only for DICOM files

    return None if path is None else read_spacing(path)


def _landmarks(
    path: Path,
    upper: str,
    lower: str,
    spacing: dict[str, Spacing | None],
    calibration: float | None,
) -> Landmarks:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as problem:
        raise CaseError([Problem(str(path), f"cannot be read as JSON ({problem})")]) from problem
    if not isinstance(raw, dict):
        raise CaseError([Problem(str(path), "must hold 'flexion' and 'extension' objects")])
    data: dict[str, Any] = {
        name: _pair(raw.get(name), upper, lower, spacing[name], path=path, name=name)
        for name in ("flexion", "extension")
    }
    if calibration is not None:
        data["mm_per_pixel"] = [calibration, calibration]
    from pydantic import ValidationError

    from fusionwatch.core.imaging import Landmarks
    from fusionwatch.files.case import plain_message

    try:
        return Landmarks.model_validate_json(json.dumps(data))
    except ValidationError as error:
        problems = [
            Problem(".".join(str(p) for p in e["loc"]), plain_message(e))
            for e in error.errors(include_url=False)
        ]
        raise CaseError(problems) from error


def _pair(
    film: Any, upper: str, lower: str, spacing: Spacing | None, *, path: Path, name: str
) -> dict[str, Any]:
    """A film's points keyed 'upper'/'lower' or by vertebra name (L4, L5)."""
    if not isinstance(film, dict):
        raise CaseError([Problem(f"{path}:{name}", "missing; give the corner points")])
    pair = {
        "upper": film.get("upper", film.get(upper)),
        "lower": film.get("lower", film.get(lower)),
    }
    if spacing is not None:
        pair["mm_per_pixel"] = list(spacing.pair)
    return pair


def _data(
    level: str,
    motion: Motion,
    cutoff: float,
    lines: tuple[str, ...],
    spacing: dict[str, Spacing | None],
) -> dict[str, Any]:
    return {
        "level": level.upper(),
        "angle_deg": motion.angle_deg,
        "translation_mm": motion.translation_mm,
        "flexion": {
            "angle_deg": motion.flexion.angle_deg,
            "translation": motion.flexion.translation,
        },
        "extension": {
            "angle_deg": motion.extension.angle_deg,
            "translation": motion.extension.translation,
        },
        "cutoff_deg": cutoff,
        "verdict": list(lines),
        "method": motion.method,
        "spacing": {k: None if v is None else v.source for k, v in spacing.items()},
    }


def _show(
    level: str,
    motion: Motion,
    cutoff: float,
    lines: tuple[str, ...],
    spacing: dict[str, Spacing | None],
) -> None:
    from rich.table import Table

    table = Table(title=f"Motion at {level.upper()} (cut-off < {cutoff:g}°)")
    for column in ("film", "segment angle (°)", "translation (mm)"):
        table.add_column(column)
    table.add_row("flexion", f"{motion.flexion.angle_deg:.1f}", f"{motion.flexion.translation:.1f}")
    table.add_row(
        "extension", f"{motion.extension.angle_deg:.1f}", f"{motion.extension.translation:.1f}"
    )
    translation = "-" if motion.translation_mm is None else f"{motion.translation_mm:g}"
    table.add_row("[bold]motion", f"[bold]{motion.angle_deg:g}", f"[bold]{translation}")
    out.print(table)
    for line in lines:
        out.print(f"• {line}")
    sources = ", ".join(f"{k}: {v.source}" for k, v in spacing.items() if v is not None)
    out.print(f"[dim]Method: {motion.method}. Pixel spacing: {sources or 'calibration'}.[/dim]")
