"""English strings that must not appear where a patient reads Spanish: every interface string,
every patient text and the English the engine writes itself, of two words or more, less those
written the same in Spanish (decision 0013)."""

import re
from pathlib import Path
from typing import Any

import polib

from fusionwatch.core.derive.milestone import CHECKPOINTS
from fusionwatch.core.derive.trajectory import PATTERN_TEXT
from fusionwatch.core.scores import INSTRUMENT_LABEL
from fusionwatch.knowledge.languages import source_texts
from fusionwatch.knowledge.loader import ROOT, load, load_in, load_labels, read_labels

POT = Path(__file__).resolve().parents[1] / "src" / "fusionwatch" / "locale" / "messages.pot"


def _texts(parts: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for part in parts.values():
        for fields in part.values():
            for value in fields.values():
                found.update(value.values() if isinstance(value, dict) else [value])
    return found


def _engine_english() -> set[str]:
    """English the engine writes itself (clinician wording a patient view must replace): score
    patterns and names, what each check point is for, facts' clinician labels, and the
    "and 3 more listed below" of an open-questions list."""
    kb = load()
    found = set(PATTERN_TEXT.values()) | set(INSTRUMENT_LABEL.values())
    found |= {purpose for _threshold, purpose in CHECKPOINTS}
    found |= {f.clinician for f in kb.data.facts}
    found.add("more listed below")
    return found


def english_strings() -> set[str]:
    """Every English interface string and patient text of two words or more, except the few
    written the same in Spanish ("°C (Celsius)")."""
    po = polib.pofile(str(POT).replace("messages.pot", "es/LC_MESSAGES/messages.po"))
    found = {e.msgid for e in polib.pofile(str(POT))}
    found |= _texts(source_texts(load().data, read_labels(ROOT, load(), "en").words))
    same = {e.msgid for e in po if e.msgstr == e.msgid}
    same |= _texts(source_texts(load_in("es").data, load_labels("es").words))
    found |= _engine_english()
    found = {re.sub(r"<[^>]+>|\s+", " ", s).strip() for s in found - same}
    return {s for s in found if len(s.split()) >= 2 and "{" not in s and "%(" not in s}


ENGLISH = english_strings()
