"""Imaging studies and score visits entered through the form, and carried forward losslessly."""

from html.parser import HTMLParser

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_web_workspace import EVALUATION, EXAMPLES, add_patient
from tests.synthetic import pair_mm

from conftest import sign_in
from fusionwatch.store.database import Database
from fusionwatch.store.tables import AssessmentRecord


class Submission(HTMLParser):
    """What a browser would send for the evaluation form as it stands (no button pressed)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in {"submit", "button"}:
            if a.get("type") in {"radio", "checkbox"}:
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value", "")
        elif tag == "select":
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_of(html: str) -> dict[str, str]:
    parser = Submission()
    parser.feed(html.split('class="evaluation"', 1)[1])
    return parser.fields


def post(client: TestClient, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
    response = client.post(f"{path}/evaluate", data=fields)
    return response.status_code, response.text, str(response.url.path)


def press(client: TestClient, path: str, fields: dict[str, str], action: str) -> dict[str, str]:
    """Press an "add another" button: the same form comes back with one more empty row."""
    status, html, _ = post(client, path, {**fields, "series_action": action})
    assert status == 200, html
    return form_of(html)


def records(database: Database) -> list[AssessmentRecord]:
    with database.session() as s:
        return list(s.scalars(select(AssessmentRecord).order_by(AssessmentRecord.id)))


def test_studies_and_scores_typed_into_the_form_survive_a_new_evaluation_unchanged(
    client: TestClient, database: Database
) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    fields = form_of(client.get(f"{path}/evaluate").text)
    assert {"imaging.studies.0.modality", "imaging.studies.0.levels.0.level"} <= set(fields)
    assert "follow_up.0.odi" in fields
    assert "imaging.studies" not in fields  # the old comma box that answered 422 is gone
    fields.update(EVALUATION)
    fields.update({"surgery.months_since": "", "surgery.date": "2025-09-01"})
    fields = press(client, path, fields, "level-0")
    fields = press(client, path, fields, "study")
    fields = press(client, path, fields, "visit")
    fields = press(client, path, fields, "visit")
    added = ("imaging.studies.0.levels.1.level", "imaging.studies.1.modality", "follow_up.2.odi")
    assert set(added) <= set(fields), "each button adds its row, even to empty rows"
    fields.update(
        {
            "imaging.studies.0.modality": "ct",
            "imaging.studies.0.months_since": "12",
            "imaging.studies.0.levels.0.level": "L4-L5",
            "imaging.studies.0.levels.0.bridwell": "III",
            "imaging.studies.0.levels.0.facet_bridging": "no",
            "imaging.studies.0.levels.0.periscrew_lucency_mm": "1,4",
            "imaging.studies.0.levels.0.screw_broken": "no",
            "imaging.studies.0.levels.1.level": "L5-S1",
            "imaging.studies.0.levels.1.interbody_bridging": "yes",
            "imaging.studies.0.levels.1.mayfield": "II",
            "imaging.studies.1.modality": "flexion_extension",
            "imaging.studies.1.date": "2026-10-01",
            "imaging.studies.1.levels.0.level": "L4-L5",
            "imaging.studies.1.levels.0.angle_deg": "6",
            "imaging.studies.1.levels.0.translation_mm": "1.5",
            "follow_up.0.baseline": "yes",
            "follow_up.0.odi": "52",
            "follow_up.0.nrs_axial": "7",
            "follow_up.1.month": "3",
            "follow_up.1.odi": "28",
            "follow_up.1.analgesics": "occasional",
            "follow_up.2.date": "2026-11-01",
            "follow_up.2.odi": "46",
            "follow_up.2.nrs_axial": "6",
        }
    )
    status, html, where = post(client, path, {**fields, "go": "assess"})
    assert status == 200, html
    assert where.startswith("/assessments/")
    assert "Imaging by level" in html
    assert "Recovery over time" in html
    first = records(database)[0]
    studies = first.case_data["imaging"]["studies"]
    assert [s["modality"] for s in studies] == ["ct", "flexion_extension"]
    assert studies[0]["levels"][0]["periscrew_lucency_mm"] == 1.4
    assert [lv["level"] for lv in studies[0]["levels"]] == ["L4-L5", "L5-S1"]
    assert len(first.case_data["follow_up"]) == 3

    again = form_of(client.get(f"{path}/evaluate").text)
    assert again["imaging.studies.1.levels.0.angle_deg"] == "6"
    assert again["follow_up.0.baseline"] == "yes"
    status, html, _ = post(client, path, again)
    assert status == 200, html
    second = records(database)[1]
    assert second.id != first.id
    assert second.case_data == first.case_data
    assert second.result == first.result


def test_rows_the_form_cannot_show_ride_along_and_the_json_box_still_works(
    client: TestClient, database: Database
) -> None:
    """Motion landmarks and a label have no input: they are carried, never dropped."""
    case = yaml.safe_load(EXAMPLES.joinpath("imaging-ct-and-motion-films.yaml").read_text())
    landmarks = {"flexion": pair_mm(-3, 1), "extension": pair_mm(4, 0), "mm_per_pixel": [1.0, 1.0]}
    case["imaging"]["studies"].append(
        {"modality": "flexion_extension", "months_since": 15, "levels": [
            {"level": "L4-L5", "landmarks": landmarks}
        ]}
    )  # fmt: skip
    token = sign_in(client)
    path = add_patient(client, token)
    fields = form_of(client.get(f"{path}/evaluate").text)
    fields["extra_case_data"] = yaml.safe_dump(case, sort_keys=False)
    status, html, _ = post(client, path, fields)
    assert status == 200, html
    again = form_of(client.get(f"{path}/evaluate").text)
    assert "landmarks" in again["imaging.studies.4.levels.0._rest"]
    assert "imaging-ct-and-motion-films" in again["extra_case_data"]  # the label
    assert "studies" not in again["extra_case_data"]
    status, html, _ = post(client, path, again)
    assert status == 200, html
    first, second = records(database)
    assert second.case_data == first.case_data
    assert second.result == first.result


def test_bad_row_values_are_named_in_words_and_nothing_is_stored(
    client: TestClient, database: Database
) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    fields = form_of(client.get(f"{path}/evaluate").text)
    fields.update(EVALUATION)
    fields.update(
        {
            "imaging.studies.0.modality": "ct",
            "imaging.studies.0.months_since": "twelve",
            "imaging.studies.0.levels.0.level": "L4-L5",
            "imaging.studies.0.levels.0.angle_deg": "90",
            "follow_up.0.month": "3",
        }
    )
    status, html, _ = post(client, path, fields)
    assert status == 422
    assert "Imaging study 1: or months after fusion</a>: type a number" in html
    assert 'value="twelve"' in html
    fields["imaging.studies.0.months_since"] = "12"
    status, html, _ = post(client, path, fields)
    assert status == 422
    assert "Imaging study 1, level 1: Angular motion" in html
    assert "Score visit 1" in html
    assert "a visit needs at least one score" in html
    assert records(database) == []


def test_the_add_buttons_keep_what_was_typed(client: TestClient) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    fields = form_of(client.get(f"{path}/evaluate").text)
    fields.update({"pain.axial": "5", "follow_up.0.odi": "40", "follow_up.0.month": "6"})
    after = press(client, path, fields, "visit")
    assert after["pain.axial"] == "5"
    assert after["follow_up.0.odi"] == "40"
    assert after["follow_up.1.odi"] == ""
