"""Spanish education texts: readable (INFLESZ), really Spanish, and with the English numbers.

Readability is the Szigriszt-Pazos perspicuity, read on the INFLESZ scale (Barrio-Cantalejo et al.
2008; evidence.md §21.2): below 55 is "algo difícil" and fails. A boundary value belongs to the
easier band (55 is "normal"). As in the English readability test, a list item counts as a sentence,
as a reader takes it in. Figures are reported in docs/spanish-glossary.md.

textstat computes the score, but it counts syllables with a hyphenation dictionary that never splits
off a single letter ("ayuda" 2, "operación" 3), so it flatters Spanish by about 5 to 10 points. Each
text is therefore also scored with syllables counted as vowel nuclei (diphthongs and hiatus by the
usual rules), and the lower of the two scores is the one that must pass.
"""

import re
import statistics
from collections import Counter
from collections.abc import Iterator

import pytest
import textstat

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Education, Translation
from fusionwatch.knowledge import load

FLOOR = 55.0
AIM = 65.0
# INFLESZ bands, lower bound included (evidence.md §21.2 leaves the shared values unassigned).
BANDS = ((80.0, "muy fácil"), (65.0, "bastante fácil"), (55.0, "normal"), (40.0, "algo difícil"))
# Common English words that are not also Spanish words ("a", "no", "me" are left out on purpose).
ENGLISH = frozenset(
    (
        *("the", "and", "of", "to", "is", "you", "your", "that", "with", "for", "it", "this"),
        *("are", "be", "have", "when", "what", "which", "will", "can", "from", "they", "after"),
        *("before", "not", "or", "if", "at", "by", "an", "was", "has", "may", "more", "than"),
        *("who", "how", "do", "does"),
    )
)
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")

KB = load()
SPANISH = {t.id: t for t in KB.data.translations.get("es", ())}
ENGLISH_DOCS = {e.id: e for e in KB.data.education}


@pytest.fixture(scope="module", autouse=True)
def spanish_textstat() -> Iterator[None]:
    """textstat keeps its language globally; other tests read English, so restore it after."""
    textstat.set_lang("es")
    yield
    textstat.set_lang("en_US")


def plain(markdown: str) -> str:
    """The prose a reader reads: emphasis marks gone, each list item its own sentence."""
    text = re.sub(r"[*_]+", "", markdown)
    lines = (re.sub(r"^\s*(?:-|\d+\.)\s+", "", line).strip() for line in text.splitlines())
    ended = (re.sub(r"[;:,]$", ".", line) for line in lines if line)
    return " ".join(line if line[-1] in ".!?»" else f"{line}." for line in ended)


STRONG = set("aeoáéíóú")


def syllables(word: str) -> int:
    """Vowel nuclei: two strong vowels (a, e, o or an accented vowel) side by side are a hiatus."""
    word = re.sub(r"(?<=[qg])u(?=[eiéí])", "", word.lower())
    word = re.sub(r"y$", "i", word)
    count, previous = 0, ""
    for char in word:
        if char not in "aeiouáéíóúü":
            previous = ""
            continue
        if not previous or (previous in STRONG and char in STRONG):
            count += 1
        previous = char
    return max(count, 1)


def by_nuclei(text: str) -> float:
    words = re.findall(r"\w+(?:[.,]\d+)?", text)
    per_word = sum(syllables(w) for w in words) / len(words)
    return 206.835 - 62.3 * per_word - len(words) / textstat.sentence_count(text)


def inflesz(text: str) -> float:
    prose = plain(text)
    return min(float(textstat.szigriszt_pazos(prose)), by_nuclei(prose))


def band(score: float) -> str:
    return next((name for low, name in BANDS if score >= low), "muy difícil")


def numbers(doc: Education | Translation) -> Counter[float]:
    text = f"{doc.title}\n{doc.body}"
    return Counter(float(n.replace(",", ".")) for n in NUMBER.findall(text))


def test_every_english_document_has_a_spanish_one() -> None:
    assert set(SPANISH) == set(ENGLISH_DOCS)
    assert all(t.language == "es" for t in SPANISH.values())


@pytest.mark.parametrize("item_id", sorted(SPANISH))
def test_spanish_text_reads_at_least_normal(item_id: str) -> None:
    score = inflesz(SPANISH[item_id].body)
    assert score >= FLOOR, f"{item_id}: INFLESZ {score:.1f} ({band(score)})"


@pytest.mark.parametrize("item_id", sorted(SPANISH))
def test_declared_reading_level_is_the_measured_one(item_id: str) -> None:
    score = inflesz(SPANISH[item_id].body)
    assert SPANISH[item_id].reading_level == f"INFLESZ {band(score)}", f"{score:.1f}"


def test_median_spanish_readability_meets_the_aim() -> None:
    scores = [inflesz(t.body) for t in SPANISH.values()]
    assert statistics.median(scores) >= AIM, f"median INFLESZ {statistics.median(scores):.1f}"


@pytest.mark.parametrize(
    ("word", "count"),
    [("ayuda", 3), ("operación", 4), ("hueso", 2), ("oído", 3), ("sacroilíaca", 5), ("que", 1)],
)
def test_syllables_are_counted_as_a_reader_says_them(word: str, count: int) -> None:
    assert syllables(word) == count


def test_the_measure_tells_plain_from_hard_spanish() -> None:
    easy = "El hueso tarda en sanar. Pida ayuda. Camine un poco cada día."
    hard = (
        "La consolidación radiológica incompleta de la artrodesis instrumentada posterolateral"
        " constituye una complicación frecuentemente infradiagnosticada en poblaciones quirúrgicas"
        " con comorbilidades metabólicas relevantes y tabaquismo persistente."
    )
    assert inflesz(easy) >= AIM > FLOOR > inflesz(hard)


@pytest.mark.parametrize("item_id", sorted(SPANISH))
def test_spanish_keeps_exactly_the_english_numbers(item_id: str) -> None:
    assert numbers(SPANISH[item_id]) == numbers(ENGLISH_DOCS[item_id])


@pytest.mark.parametrize("item_id", sorted(SPANISH))
def test_spanish_text_is_not_english(item_id: str) -> None:
    spanish, english = SPANISH[item_id], ENGLISH_DOCS[item_id]
    assert spanish.body != english.body
    assert spanish.title != english.title
    words = re.findall(r"[a-záéíóúüñ]+", spanish.body.lower())
    share = sum(w in ENGLISH for w in words) / len(words)
    assert share < 0.02, f"{share:.0%} English words"


# Words that read differently, or not at all, on one side of the Atlantic, and the informal "tú";
# docs/spanish-glossary.md gives the neutral word used instead.
REGIONAL = frozenset(
    (
        *("coger", "pinzado", "pinzamiento", "calambre", "ordenador", "aficiones", "acorchamiento"),
        *("adolorido", "dolorido", "manejar", "vosotros", "tú", "tu", "tienes", "puedes", "debes"),
    )
)


@pytest.mark.parametrize("item_id", sorted(SPANISH))
def test_spanish_text_is_neutral_and_formal(item_id: str) -> None:
    text = f"{SPANISH[item_id].title} {SPANISH[item_id].body}".lower()
    assert not set(re.findall(r"[a-záéíóúüñ]+", text)) & REGIONAL


def test_english_check_catches_english() -> None:
    words = re.findall(r"[a-z]+", ENGLISH_DOCS["faq-best-test"].body.lower())
    assert sum(w in ENGLISH for w in words) / len(words) > 0.15


def test_spanish_items_carry_the_english_sources(kb: Knowledge) -> None:
    for item_id, text in SPANISH.items():
        spanish, english = kb.education_item(item_id, "es"), kb.education_item(item_id)
        assert spanish.body == text.body
        assert (spanish.kind, spanish.sources) == (english.kind, english.sources)


def figures() -> str:
    """The table reported in docs/spanish-glossary.md (run this file with python)."""
    gate = [inflesz(t.body) for t in SPANISH.values()]
    alone = [float(textstat.szigriszt_pazos(plain(t.body))) for t in SPANISH.values()]
    rows = (("gate: lower of the two", gate), ("textstat szigriszt_pazos alone", alone))
    lines = [
        f"{n}: min {min(v):.1f} median {statistics.median(v):.1f} max {max(v):.1f}" for n, v in rows
    ]
    hardest = min(SPANISH, key=lambda i: inflesz(SPANISH[i].body))
    bands = Counter(band(s) for s in gate)
    return "\n".join([*lines, f"bands: {dict(bands)}; hardest: {hardest}"])


if __name__ == "__main__":
    textstat.set_lang("es")
    print(figures())
