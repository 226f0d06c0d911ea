"""FHIR Bulk NDJSON: a patient read in bulk is the same case as the patient read from a Bundle."""

import shutil
from pathlib import Path

import duckdb
import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.site import DEFAULT_SITE
from fusionwatch.fhir.caseimport import import_bundle
from fusionwatch.screen.errors import ScreenInputError
from fusionwatch.screen.fhirbulk import load_fhir_bulk, read_ndjson
from fusionwatch.screen.worklist import screen
from tests.conftest import AS_OF

EXAMPLE = Path(__file__).parents[2] / "examples" / "screen" / "fhir-bulk"


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
