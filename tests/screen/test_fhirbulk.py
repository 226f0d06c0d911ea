"""FHIR Bulk NDJSON: a patient read in bulk is the same case as the patient read from a Bundle."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.site import DEFAULT_SITE
from fusionwatch.fhir.caseexport import export_case
from fusionwatch.fhir.caseimport import import_bundle, import_resources
from fusionwatch.screen.errors import ScreenInputError
from fusionwatch.screen.fhirbulk import load_fhir_bulk, read_ndjson, study_rows
from fusionwatch.screen.registry import load_registry
from fusionwatch.screen.saved import worklist_rows
from fusionwatch.screen.worklist import screen
from tests.conftest import AS_OF

EXAMPLE = Path(__file__).parents[2] / "examples" / "screen" / "fhir-bulk"
REGISTRY = Path(__file__).parents[2] / "examples" / "screen" / "registry"


def _bundle(resources: list[dict[str, object]]) -> dict[str, object]:
    entries = [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def test_bulk_patients_screen_as_their_bundles_assess(kb: Knowledge) -> None:
    patients, _ = read_ndjson(EXAMPLE)
    assert len(patients) == 3
    con = duckdb.connect()
    loaded = load_fhir_bulk(con, kb, EXAMPLE, AS_OF)
    assert loaded.episodes == 3
    assert loaded.not_used["Encounter.ndjson: Encounter (resource type not read)"] == 3
    screen(con, kb, AS_OF, DEFAULT_SITE)
    rows = {r["episode_id"]: r for r in con.table("screened").to_arrow_table().to_pylist()}
    for patient, resources in patients.items():
        case = import_bundle(_bundle(resources), kb, AS_OF).case
        result = assess(case, kb, AS_OF)
        fired = " ".join(sorted(t.rule for t in result.provenance.rules if t.outcome == "fires"))
        row = rows[patient]
        assert (row["triage"], row["suspicion"], row["fired_rules"]) == (
            result.triage.level,
            result.suspicion.level,
            fired,
        )
    assert {r["suspicion"] for r in rows.values()} == {"high", "cannot_tell"}


def test_a_corrupt_line_is_named(kb: Knowledge, tmp_path: Path) -> None:
    folder = tmp_path / "bulk"
    shutil.copytree(EXAMPLE, folder)
    with (folder / "Observation.ndjson").open("a") as handle:
        handle.write('{"resourceType": "Observation", "id": \n')
    with pytest.raises(ScreenInputError) as caught:
        load_fhir_bulk(duckdb.connect(), kb, folder, AS_OF)
    assert caught.value.where.file.endswith("Observation.ndjson")
    assert caught.value.where.row == 23


def test_bulk_studies_are_screened_as_their_bundles_assess(kb: Knowledge, tmp_path: Path) -> None:
    """Patients whose records hold per-level studies (the registry example's, exported to FHIR)
    are screened with them, as assess() judges their Bundles, and open with their studies."""
    con = duckdb.connect()
    load_registry(con, kb, REGISTRY, AS_OF)
    screen(con, kb, AS_OF, DEFAULT_SITE)
    chosen = ("E0000002", "E0000009", "E0000012", "E0000018")
    data = {r["episode_id"]: r["case_data"] for r in worklist_rows(con, kb)}
    files: dict[str, list[str]] = {}
    bundles: dict[str, dict[str, object]] = {}
    for key in chosen:
        case = Case.model_validate_json(json.dumps(data[key]), context={"as_of": AS_OF})
        assert case.imaging.studies
        bundle = export_case(case, kb, key)
        patient = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        bundles[patient["id"]] = bundle
        for entry in bundle["entry"]:
            resource = entry["resource"]
            files.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    folder = tmp_path / "bulk"
    folder.mkdir()
    for kind, lines in files.items():
        (folder / f"{kind}.ndjson").write_text("\n".join(lines) + "\n")
    bulk = duckdb.connect()
    loaded = load_fhir_bulk(bulk, kb, folder, AS_OF)
    # Each patient read in bulk is the same case as that patient read from its Bundle (an
    # NDJSON line keeps no Bundle fullUrl: member references by urn:uuid still find the levels).
    patients, _ = read_ndjson(folder)
    imported = {p: import_resources(r, kb, AS_OF, timeline=False).case for p, r in patients.items()}
    assert {p: c.imaging.studies for p, c in imported.items()} == {
        p: import_bundle(b, kb, AS_OF).case.imaging.studies for p, b in bundles.items()
    }
    assert loaded.studies == sum(len(study_rows(c, "")) for c in imported.values()) >= 4
    assert not any("not screened" in note for note in loaded.not_used)
    screen(bulk, kb, AS_OF, DEFAULT_SITE)
    rows = {r["episode_id"]: r for r in bulk.table("screened").to_arrow_table().to_pylist()}
    saved = {r["episode_id"]: r["case_data"] for r in worklist_rows(bulk, kb)}
    for patient, case in imported.items():
        assert case.imaging.studies
        result = assess(case, kb, AS_OF)
        fired = " ".join(sorted(t.rule for t in result.provenance.rules if t.outcome == "fires"))
        row = rows[patient]
        assert not row["imaging_studies_not_read"]
        assert (row["triage"], row["suspicion"], row["fired_rules"]) == (
            result.triage.level,
            result.suspicion.level,
            fired,
        ), patient
        assert len(saved[patient]["imaging"]["studies"]) == len(case.imaging.studies)
