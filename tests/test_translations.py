"""Education in several languages: each language complete and current, found as files, no code.

The loader reads every sub-folder of ``education/`` as a language; the checker refuses a language
that lacks a document, has one the source lacks, or was written from an older source text.
"""

import shutil
from pathlib import Path

import pytest

from fusionwatch.core.checks import check
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import KnowledgeError
from fusionwatch.core.knowledge import Education, KnowledgeBase, Translation
from fusionwatch.knowledge import load
from fusionwatch.knowledge.loader import ROOT, compile_files

GOOD = load().data


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A writable copy of the packaged knowledge files."""
    root = tmp_path / "knowledge"
    shutil.copytree(str(ROOT), root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def with_spanish(*texts: Translation) -> KnowledgeBase:
    return GOOD.model_copy(update={"translations": {**GOOD.translations, "es": texts}})


def spanish(item_id: str) -> Translation:
    return next(t for t in GOOD.translations["es"] if t.id == item_id)


def test_spanish_is_packaged_and_offered() -> None:
    assert load().languages == ("en", "es")
    assert len(GOOD.translations["es"]) == len(GOOD.education)


def test_a_missing_translation_is_refused() -> None:
    texts = tuple(t for t in GOOD.translations["es"] if t.id != "faq-emergency-signs")
    assert "education/es: no translation of 'faq-emergency-signs'" in check(with_spanish(*texts))


def test_a_translation_of_nothing_is_refused() -> None:
    stray = spanish("disclaimer").model_copy(update={"id": "aviso-suelto"})
    problems = check(with_spanish(*GOOD.translations["es"], stray))
    assert "education/es/aviso-suelto: translates no 'en' document" in problems


def test_a_stale_translation_is_refused() -> None:
    source = next(e for e in GOOD.education if e.id == "faq-quit-smoking")
    changed = source.model_copy(update={"body": source.body.replace("1.9", "2.9")})
    education = tuple(changed if e.id == source.id else e for e in GOOD.education)
    problems = check(GOOD.model_copy(update={"education": education}))
    assert [p for p in problems if "stale" in p] == [
        f"education/es/faq-quit-smoking: stale, written from {source.fingerprint()} but the source"
        f" is now {changed.fingerprint()}; re-read it against the source, then update"
    ]


def test_the_fingerprint_follows_title_and_text_only() -> None:
    source = next(e for e in GOOD.education if e.id == "glossary-ct-scan")
    moved: Education = source.model_copy(update={"section": "faq", "aliases": ()})
    retitled = source.model_copy(update={"title": "CT"})
    assert moved.fingerprint() == source.fingerprint() != retitled.fingerprint()


def test_a_translation_in_the_wrong_folder_is_refused() -> None:
    wrong = spanish("disclaimer").model_copy(update={"language": "pt"})
    texts = tuple(wrong if t.id == "disclaimer" else t for t in GOOD.translations["es"])
    assert "education/es/disclaimer: says language 'pt'" in check(with_spanish(*texts))


def test_a_missing_file_stops_the_loader(tree: Path) -> None:
    (tree / "education" / "es" / "glossary-hba1c.md").unlink()
    with pytest.raises(KnowledgeError) as caught:
        compile_files(tree)
    assert "education/es: no translation of 'glossary-hba1c'" in caught.value.problems


def test_a_third_language_is_only_files(tree: Path) -> None:
    """Copying the Spanish folder as 'xx' (and saying so) adds a language without code."""
    shutil.copytree(tree / "education" / "es", tree / "education" / "xx")
    for path in (tree / "education" / "xx").iterdir():
        path.write_text(path.read_text().replace("language: es", "language: xx"))
    kb = compile_files(tree)
    assert kb.languages == ("en", "es", "xx")
    assert kb.education_item("disclaimer", "xx").body == kb.education_item("disclaimer", "es").body


def test_a_partial_third_language_is_refused(tree: Path) -> None:
    (tree / "education" / "fr").mkdir()
    shutil.copy(tree / "education" / "es" / "disclaimer.md", tree / "education" / "fr")
    with pytest.raises(KnowledgeError) as caught:
        compile_files(tree)
    assert "education/fr: no translation of 'faq-emergency-signs'" in caught.value.problems
    assert "education/fr/disclaimer: says language 'es'" in caught.value.problems


def test_english_stands_in_only_when_allowed(kb: Knowledge) -> None:
    english = kb.education_item("faq-emergency-signs")
    assert kb.education_item("faq-emergency-signs", "en") is english
    assert kb.education_item("faq-emergency-signs", "es").title.startswith("¿Qué señales")
    with pytest.raises(LookupError):
        kb.education_item("faq-emergency-signs", "de")
    assert kb.education_item("faq-emergency-signs", "de", fallback=True) is english
    with pytest.raises(LookupError):
        kb.education_item("no-such-item", "es", fallback=True)


def test_a_translation_cannot_cite_or_time_itself(tree: Path) -> None:
    """Sources and show_when come from the English document; a translation may not restate them."""
    path = tree / "education" / "es" / "faq-quit-smoking.md"
    text = path.read_text().replace("language: es\n", "language: es\nsources: [article]\n")
    path.write_text(text)
    with pytest.raises(KnowledgeError) as caught:
        compile_files(tree)
    assert any("sources" in p and "Extra inputs" in p for p in caught.value.problems)
