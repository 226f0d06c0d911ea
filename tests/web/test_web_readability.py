"""Plain language: patient-facing text aims at US grade 8 or below (Flesch-Kincaid, textstat).

Figures measured here are reported in docs/web.md. A list item counts as a sentence, as a reader
takes it in; otherwise one bulleted list would read as a single 80-word sentence.
"""

import html
import re

import textstat
from fastapi.testclient import TestClient
from test_web_selfcheck import HEALTH, NO_EMERGENCY, SURGERY, SYMPTOMS

from conftest import csrf
from fusionwatch.core.compiled import Knowledge

TARGET = 8.0
# No single text may be much harder than the target, even if the average is fine.
CEILING = 10.0


def sentences(text: str) -> str:
    return re.sub(r"[;:]?\s*\n\s*-\s+", ". ", text)


def grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(sentences(text)))


def patient_texts(kb: Knowledge) -> dict[str, str]:
    texts = {f"fact {f.id}": f.patient for f in kb.data.facts if f.patient}
    texts |= {
        f"education {e.id}": e.body for e in kb.data.education if e.audience in {"patient", "both"}
    }
    texts |= {f"rule {r.id}": r.then.patient for r in kb.data.rules}
    texts |= {f"message {k}": m.patient for k, m in kb.data.messages.items()}
    return texts


def visible_text(page: str) -> str:
    """The prose on a page; reference lists (paper titles) are not prose and are left out."""
    body = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", page)
    body = re.sub(r'(?s)<ol class="sources">.*?</ol>', " ", body)
    body = re.sub(r"<(/p|/li|/h\d|/legend|/label|/summary|br)\b[^>]*>", ". ", body)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_knowledge_text_for_patients_is_plain(kb: Knowledge) -> None:
    texts = patient_texts(kb)
    overall = grade(" ".join(sentences(t) for t in texts.values()))
    hard = {k: round(grade(t), 1) for k, t in texts.items() if grade(t) > CEILING}
    assert overall <= TARGET, f"overall grade {overall:.1f}"
    assert hard == {}


def test_the_pages_a_patient_sees_are_plain(client: TestClient) -> None:
    token = csrf(client)
    result = client.post(
        "/check/health",
        data={"csrf_token": token, **NO_EMERGENCY, **SURGERY, **SYMPTOMS, **HEALTH},
    ).text
    pages = {
        "home": client.get("/").text,
        "emergency questions": client.get("/check").text,
        "result": result,
    }
    grades = {name: grade(visible_text(p)) for name, p in pages.items()}
    assert all(g <= TARGET for g in grades.values()), grades
