"""Short knowledge texts and interface strings in Spanish: complete, current, readable (0013).

The loader refuses a language with a missing, extra or stale entry, or one whose numbers or
placeholders differ from the English; the gettext catalogue must match the code (re-extracted
here) and translate every string; every Spanish patient text reads at least "normal" (INFLESZ).
"""

import re
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polib
import pytest
import textstat

from fusionwatch import locale
from fusionwatch.core.errors import KnowledgeError
from fusionwatch.knowledge import languages as lang_files
from fusionwatch.knowledge.loader import ROOT, load, load_labels, read_labels
from tests.test_education_spanish import FLOOR, inflesz

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "src" / "fusionwatch" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")
SPANISH = lang_files.LanguageFile.model_validate(
    __import__("yaml").safe_load((Path(str(ROOT)) / "languages" / "es.yaml").read_text("utf-8"))
)


def source() -> lang_files.Source:
    return lang_files.source_texts(load().data, read_labels(ROOT, load(), "en").words)


def test_spanish_is_complete_and_current() -> None:
    assert lang_files.check("es", SPANISH, source()) == []


def test_a_missing_entry_is_refused() -> None:
    rules = {k: v for k, v in SPANISH.rules.items() if k != "FW-EMERG-002"}
    problems = lang_files.check("es", SPANISH.model_copy(update={"rules": rules}), source())
    assert problems == ["languages/es/rules: no translation of 'FW-EMERG-002'"]


def test_a_stale_entry_is_refused() -> None:
    english = source()
    english["messages"]["triage.urgent"] = {"patient": "Call your team within 12 hours."}
    problems = lang_files.check("es", SPANISH, english)
    assert len(problems) == 1
    assert problems[0].startswith("languages/es/messages/triage.urgent: stale, written from")


def test_changed_numbers_are_refused() -> None:
    entry = SPANISH.messages["triage.urgent"]
    texts = entry.texts()
    wrong = entry.model_copy(update={"patient": texts["patient"].replace("24", "48")})
    file = SPANISH.model_copy(update={"messages": {**SPANISH.messages, "triage.urgent": wrong}})
    problems = lang_files.check("es", file, source())
    assert problems == [
        "languages/es/messages/triage.urgent.patient: numbers differ from the English"
    ]


def test_the_loader_raises_on_a_bad_language() -> None:
    with pytest.raises(KnowledgeError):
        load_labels("xx")


def test_languages_with_texts_and_catalogues_agree() -> None:
    assert load().languages == locale.available() == ("en", "es")


def test_the_catalogue_template_is_current(tmp_path: Path) -> None:
    """Re-extract the interface strings: the committed .pot must hold exactly these."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "-k", "_", "--no-location", "--sort-output", "--omit-header",
         "-o", str(fresh), "."],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    ids = {(e.msgid, e.msgid_plural) for e in polib.pofile(str(fresh))}
    committed = {(e.msgid, e.msgid_plural) for e in polib.pofile(str(LOCALE / "messages.pot"))}
    assert ids == committed, "run: pybabel extract (see decision 0013)"


@pytest.mark.parametrize("code", [c for c in locale.available() if c != locale.SOURCE])
def test_every_interface_string_is_translated_and_current(code: str) -> None:
    po = polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "messages.po"))
    pot = polib.pofile(str(LOCALE / "messages.pot"))
    assert {e.msgid for e in po} == {e.msgid for e in pot}, "stale or missing: update the .po"
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    for e in po:
        shown = [e.msgstr] if not e.msgid_plural else list(e.msgstr_plural.values())
        for text in shown:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(e.msgid)), (
                e.msgid
            )


@pytest.fixture(scope="module")
def spanish_textstat() -> Iterator[None]:
    textstat.set_lang("es")
    yield
    textstat.set_lang("en_US")


def patient_texts() -> dict[str, str]:
    """Every Spanish patient sentence text: rules, policies, messages, the interface, and the
    questions of the self-check read together (one question alone is too short to score)."""
    texts = {
        f"{part}/{key}": entry.texts()["patient"]
        for part in ("rules", "policies", "messages")
        for key, entry in getattr(SPANISH, part).items()
    }
    # A rule's goal ("Meta: ...") is a short phrase: the goals are read together, as sentences.
    texts["rules/goals"] = " ".join(
        f"{e.texts()['target']}." for e in SPANISH.rules.values() if "target" in e.texts()
    )
    texts["facts/questions"] = " ".join(
        e.texts()["patient"] for e in SPANISH.facts.values() if "patient" in e.texts()
    )
    po = polib.pofile(str(LOCALE / "es" / "LC_MESSAGES" / "messages.po"))
    texts["interface"] = " ".join(
        e.msgstr if e.msgstr.endswith((".", "?", ":")) else e.msgstr + "." for e in po if e.msgstr
    )
    # The urgent line reads as the neutral wording a site without its own name gets.
    line = SPANISH.messages["site.urgent_line"].texts()["patient"]
    texts = {k: v.replace("{site.urgent_line}", line) for k, v in texts.items()}
    return {k: re.sub(r"<[^>]+>|\{[a-z_.:]+\}|%\(\w+\)s", "5", v) for k, v in texts.items()}


def test_every_spanish_patient_text_reads_at_least_normal(spanish_textstat: None) -> None:
    scores = {key: inflesz(text) for key, text in patient_texts().items()}
    low = {k: round(v, 1) for k, v in scores.items() if v < FLOOR}
    assert low == {}
    assert statistics.median(scores.values()) >= 65


if __name__ == "__main__":
    textstat.set_lang("es")
    found = {k: inflesz(v) for k, v in patient_texts().items()}
    print(f"{len(found)} texts: median {statistics.median(found.values()):.1f}, "
          f"min {min(found.values()):.1f} ({min(found, key=found.__getitem__)})")  # fmt: skip
