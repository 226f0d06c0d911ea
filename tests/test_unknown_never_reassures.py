"""Property tests of issue 11 over generated cases (decision 0009).

1. Any emergency finding (an emergency question answered yes, or an emergency a clinician
   records) gives ``emergency``; an emergency question answered "not sure" gives ``urgent`` or
   higher; one no one asked never gives ``routine``.
2. Unknown never reassures: when the result is ``routine`` or the suspicion ``low``, every unknown
   input that, answered some way, would raise the triage or the suspicion is named as open in the
   result (``triage.depends_on``), and the headline says the result depends on it; no patient
   text says "nothing here needs urgent action" while such an input is open. The test finds those
   inputs by brute force: each unknown input of the generated case is answered every way, the
   changed case is read into facts again from scratch, and the triage and band are decided anew.

One test checks every property on the same 10,000 generated cases, so each case is generated and
assessed once (docs/performance.md has the measured cost). Derandomized, so CI sees the same cases
every run; ``FUSIONWATCH_PROPERTY_EXAMPLES`` changes the count (for a longer run by hand).
"""

import os
import re
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionwatch.core.case import (
    Case,
    Emergency,
    Exam,
    Imaging,
    Infection,
    Pain,
    Person,
    Risk,
    Signs,
    Surgery,
)
from fusionwatch.core.engine import assess, case_facts, decide_triage
from fusionwatch.core.results import Assessment
from fusionwatch.core.vocab import (
    SUSPICION_ORDER,
    TRIAGE_ORDER,
    Answer,
    CompressionCause,
    ExamFinding,
    FusionStatus,
    Nicotine,
    Onset,
    PainPattern,
    Side,
    TemperatureUnit,
)
from fusionwatch.knowledge import load
from tests.conftest import AS_OF

KB = load()
A = Answer
ANY = st.sampled_from(list(Answer))
EXAMPLES = int(os.environ.get("FUSIONWATCH_PROPERTY_EXAMPLES", "10000"))
DEPENDS = "depends on questions that are still open"
# The routine headline's reassurance, in either wording the issue and the messages use.
REASSURING = re.compile(r"nothing (here )?needs urgent action", re.IGNORECASE)


def _maybe(values: Any) -> st.SearchStrategy[Any]:
    """None half the time, otherwise one of the values (one draw, not two)."""
    values = list(values)
    return st.sampled_from([None] * len(values) + values)


def _weighted(*weights: tuple[Any, int]) -> st.SearchStrategy[Any]:
    return st.sampled_from([value for value, times in weights for _ in range(times)])


def _answers(model: type, strategy: st.SearchStrategy[Answer]) -> dict[str, Any]:
    return {f: strategy for f, i in model.model_fields.items() if i.annotation is Answer}


def _temperature() -> st.SearchStrategy[tuple[float | None, TemperatureUnit | None]]:
    celsius = st.tuples(st.sampled_from([36.8, 37.9, 38.0, 38.6]), st.just(TemperatureUnit.CELSIUS))
    fahrenheit = st.tuples(
        st.sampled_from([98.6, 100.2, 101.5]), st.just(TemperatureUnit.FAHRENHEIT)
    )
    return st.just((None, None)) | celsius | fahrenheit


TEMPERATURE = _temperature()
ONSET = _maybe(Onset)
CRP = _maybe([3.0, 10.0, 25.0])


def _infection(answer: st.SearchStrategy[Answer]) -> st.SearchStrategy[Infection]:
    @st.composite
    def infection(draw: st.DrawFn) -> Infection:
        temperature, unit = draw(TEMPERATURE)
        return Infection(
            **{f: draw(answer) for f in _answers(Infection, answer)},
            temperature=temperature,
            temperature_unit=unit,
            crp_mg_l=draw(CRP),
        )

    return infection()


def _cases(
    screen: st.SearchStrategy[Answer],
    findings: st.SearchStrategy[Answer],
    signs: st.SearchStrategy[Answer],
    exam: st.SearchStrategy[ExamFinding],
) -> st.SearchStrategy[Case]:
    """Cases whose emergency screen, clinician findings (exam, infection, imaging), signs and
    examination are drawn from the given answers."""
    return st.builds(
        Case,
        surgery=st.builds(
            Surgery,
            months_since=_maybe([1.0, 2.5, 3.0, 5.0, 7.0, 13.0, 30.0]),
            levels=st.sampled_from([(), ("L4-L5",), ("L3-L4", "L4-L5", "L5-S1")]),
            prior_failed_fusion_same_site=ANY,
        ),
        person=st.builds(Person, age=st.none() | st.integers(18, 95)),
        signs=st.builds(Signs, **_answers(Signs, signs)),
        emergency=st.builds(Emergency, **_answers(Emergency, screen)),
        pain=st.builds(Pain, pattern=_maybe(PainPattern), new_radiating=signs),
        exam=st.builds(
            Exam,
            **_answers(Exam, findings),
            strength=exam,
            strength_onset=ONSET,
            sensation=exam,
            sensation_onset=ONSET,
            reflexes=exam,
            reflexes_onset=ONSET,
            gait=exam,
            gait_onset=ONSET,
            deficit_side=_maybe(Side),
            myelopathy_onset=ONSET,
        ),
        infection=_infection(findings),
        risk=st.builds(Risk, nicotine=_maybe(Nicotine), diabetes=ANY),
        imaging=st.builds(
            Imaging,
            **_answers(Imaging, findings),
            fusion_status=_maybe(FusionStatus),
            compression_cause=_maybe(CompressionCause),
        ),
    )


# Half the cases are busy: emergency and clinician findings mostly "no", signs any answer, so
# emergencies, "not sure" and unasked screens are common, but only about 1 in 10 is routine or low
# (and almost none routine). The other half are calm: the screen almost always "no", no clinician
# finding "yes", an exam normal or not done, signs mostly "no" or unknown; about 1 in 4 is routine
# and 9 in 20 routine or low, nearly all with inputs still open, which is what "unknown never
# reassures" is about. Measured over 3,000 cases of each half (docs/performance.md).
MOSTLY_NO = _weighted((A.NO, 8), (A.YES, 1), (A.UNKNOWN, 1), (A.NOT_SURE, 1))
CASES = _cases(MOSTLY_NO, MOSTLY_NO, ANY, st.sampled_from(list(ExamFinding))) | _cases(
    screen=_weighted((A.NO, 24), (A.YES, 1), (A.UNKNOWN, 1), (A.NOT_SURE, 1)),
    findings=_weighted((A.NO, 8), (A.UNKNOWN, 4), (A.NOT_SURE, 1)),
    signs=_weighted((A.NO, 6), (A.UNKNOWN, 3), (A.YES, 1), (A.NOT_SURE, 1)),
    exam=st.sampled_from([ExamFinding.NORMAL, ExamFinding.NOT_EXAMINED]),
)


def _emergency_finding(c: Case) -> bool:
    """The emergencies, written out from decision 0009 independently of the rule files."""
    e, x, i, m = c.emergency, c.exam, c.imaging, c.infection
    myelopathy = A.YES in (x.hyperreflexia, x.clonus, x.hoffmann, x.gait_ataxia)
    myelopathy = myelopathy or i.cord_signal_change is A.YES
    cause = i.compression_cause in {CompressionCause.HAEMATOMA, CompressionCause.ABSCESS_COLLECTION}
    return any(
        (
            A.YES in {getattr(e, f) for f in Emergency.model_fields},
            x.cauda_equina is A.YES,
            i.acute_compression is A.YES and cause,
            myelopathy and x.myelopathy_onset is Onset.NEW,
            # Myelopathy onset blank: a reflex or gait finding recorded as new (2026.12.2).
            myelopathy
            and x.myelopathy_onset is None
            and Onset.NEW in (x.reflexes_onset, x.gait_onset),
            x.strength is ExamFinding.ABNORMAL and x.strength_onset is Onset.NEW,
            x.sensation is ExamFinding.ABNORMAL
            and x.sensation_onset is Onset.NEW
            and x.deficit_side is Side.BOTH,
            m.wound_drainage is A.YES or m.wound_opening is A.YES,
        )
    )


def _check_emergency_first(case: Case, result: Assessment) -> None:
    """Property 1: emergency first; "not sure" urgent or higher; not asked never routine."""
    level = result.triage.level
    screen = {f: getattr(case.emergency, f) for f in Emergency.model_fields}
    if _emergency_finding(case):
        assert level == "emergency"
        assert any(r.kind == "emergency" for r in result.triage.reasons)
        return
    assert level != "emergency", [r.rule for r in result.triage.reasons]
    if A.NOT_SURE in screen.values():
        assert TRIAGE_ORDER[level] >= TRIAGE_ORDER["urgent"]
        unsure = {f"emergency.{f}" for f, v in screen.items() if v is A.NOT_SURE}
        assert unsure <= {m.fact for m in result.triage.not_sure}
    if A.UNKNOWN in screen.values():
        assert level != "routine"
        unasked = {f"emergency.{f}" for f, v in screen.items() if v is A.UNKNOWN}
        assert unasked == {m.fact for m in result.triage.unanswered_emergency}
        if level == "prompt_referral":
            assert result.triage.headline.startswith("Answer these first")


# ---- unknown never reassures (brute force) ------------------------------------------------------

_NUMBERS: dict[str, tuple[Any, ...]] = {
    "surgery.months_since": (1.0, 2.99, 3.0, 4.0, 6.0, 9.0, 12.0, 24.0, 40.0),
    "infection.crp_mg_l": (5.0, 25.0),
}


def _alternatives(path: str, value: Any) -> Iterator[Any]:
    """Every way an open input could be answered (only inputs this test's cases vary)."""
    if isinstance(value, Answer):
        if value.truth is None:
            yield from (A.YES, A.NO)
        return
    if value is ExamFinding.NOT_EXAMINED:
        yield from (ExamFinding.NORMAL, ExamFinding.ABNORMAL)
        return
    if value is not None and value != ():
        return
    field = _FIELDS.get(path)
    if field is not None:
        yield from field
    elif path in _NUMBERS:
        yield from _NUMBERS[path]


_FIELDS: dict[str, tuple[Any, ...]] = {
    "surgery.levels": (("L4-L5",), ("L3-L4", "L4-L5", "L5-S1")),
    "pain.pattern": tuple(PainPattern),
    "risk.nicotine": tuple(Nicotine),
    "imaging.fusion_status": tuple(FusionStatus),
    "imaging.compression_cause": tuple(CompressionCause),
    "exam.deficit_side": tuple(Side),
    **{f"exam.{f}_onset": tuple(Onset) for f in ("strength", "sensation", "reflexes", "gait")},
    "exam.myelopathy_onset": tuple(Onset),
}
_SECTIONS = ("surgery", "signs", "emergency", "pain", "exam", "infection", "risk", "imaging")


def _open_inputs(case: Case) -> Iterator[tuple[str, str, str, Any]]:
    for section in _SECTIONS:
        part = getattr(case, section)
        for name in type(part).model_fields:
            if _implied(case, f"{section}.{name}"):
                continue  # answered 'no' by its broader question (facts.yaml implied_no)
            for alt in _alternatives(f"{section}.{name}", getattr(part, name)):
                yield section, name, f"{section}.{name}", alt


def _implied(case: Case, path: str) -> bool:
    broader = KB.implied_no.get(path)
    if broader is None:
        return False
    section, name = broader.split(".")
    return getattr(getattr(case, section), name) is Answer.NO


def _answered(case: Case, section: str, name: str, value: Any) -> Case | None:
    part = getattr(case, section)
    update: dict[str, Any] = {name: value}
    if section == "infection" and name == "temperature":
        return None
    try:
        changed = type(part).model_validate(part.model_dump() | update)
    except ValueError:
        return None  # an impossible combination (e.g. levels that do not fit the region)
    return case.model_copy(update={section: changed})


def _decide(case: Case) -> tuple[int, int]:
    env = case_facts(case, KB, AS_OF)
    return TRIAGE_ORDER[decide_triage(KB, env)], SUSPICION_ORDER[env["result.suspicion"]]


def _named(result: Assessment, path: str) -> bool:
    for item in result.triage.depends_on:
        if item.fact == path or path in KB.facts[item.fact].derived_from:
            return True
    return False


def _patient_texts(result: Assessment) -> Iterator[str]:
    """Every text of the result a patient reads."""
    yield result.triage.headline
    yield result.suspicion.patient_explanation
    for conclusion in (
        *result.triage.reasons,
        *result.suspicion.reasons,
        *result.pain_generators,
        *result.recommendations,
    ):
        yield conclusion.patient
    for item in (*result.timeline, *result.education):
        yield item.body
    yield result.disclaimer


def _check_unknown_never_reassures(case: Case, result: Assessment) -> None:
    """Property 2, by brute force: every open input answered every way, decided from scratch."""
    routine = result.triage.level == "routine"
    low = result.suspicion.level == "low"
    if not (routine or low):
        return
    triage, band = TRIAGE_ORDER[result.triage.level], SUSPICION_ORDER[result.suspicion.level]
    assert _decide(case) == (triage, band)  # the fast path agrees with assess
    for section, name, path, alt in _open_inputs(case):
        answered = _answered(case, section, name, alt)
        if answered is None:
            continue
        new_triage, new_band = _decide(answered)
        raises_triage = routine and new_triage > triage
        raises_band = low and new_band > band
        if not (raises_triage or raises_band):
            continue
        assert _named(result, path), f"{path}={alt} raises the result but is not named"
        if raises_triage:
            assert DEPENDS in result.triage.headline
        if raises_band:
            assert DEPENDS in result.suspicion.patient_explanation
        for text in _patient_texts(result):
            assert not REASSURING.search(text), f"{path} is open, yet: {text}"


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=CASES)
def test_emergency_first_and_unknown_never_reassures(case: Case) -> None:
    result = assess(case, KB, AS_OF)
    _check_emergency_first(case, result)
    _check_unknown_never_reassures(case, result)
