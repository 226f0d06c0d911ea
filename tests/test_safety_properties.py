"""Property tests of the safety rules over many generated cases."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionwatch.core.case import Case, Emergency, Imaging, Pain, Person, Risk, Signs, Surgery
from fusionwatch.core.engine import assess
from fusionwatch.core.vocab import (
    SUSPICION_ORDER,
    Answer,
    FusionStatus,
    Nicotine,
    PainPattern,
)
from fusionwatch.knowledge import load
from tests.conftest import AS_OF

KB = load()
ANSWER = st.sampled_from(Answer)
EMERGENCY_FIELDS = tuple(Emergency.model_fields)
SIGN_FIELDS = tuple(f for f, i in Signs.model_fields.items() if i.annotation is Answer)


def section(model, **extra):  # type: ignore[no-untyped-def]
    fields = {f: ANSWER for f, info in model.model_fields.items() if info.annotation is Answer}
    return st.builds(model, **{**fields, **extra})


CASES = st.builds(
    Case,
    surgery=st.builds(
        Surgery,
        months_since=st.none() | st.floats(0, 60, allow_nan=False),
        levels=st.sampled_from([(), ("L4-L5",), ("L4-L5", "L5-S1"), ("C5-C6", "C6-C7", "C7-T1")]),
        prior_failed_fusion_same_site=ANSWER,
    ),
    person=st.builds(Person, age=st.none() | st.integers(18, 95)),
    signs=section(Signs),
    emergency=section(Emergency),
    pain=st.builds(
        Pain,
        axial=st.none() | st.integers(0, 10),
        pattern=st.none() | st.sampled_from(PainPattern),
        new_radiating=ANSWER,
    ),
    risk=st.builds(
        Risk,
        nicotine=st.none() | st.sampled_from(Nicotine),
        diabetes=ANSWER,
        long_term_steroids=ANSWER,
    ),
    imaging=section(Imaging, fusion_status=st.none() | st.sampled_from(FusionStatus)),
)


def runs(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@runs(10_000)
@given(case=CASES, which=st.sampled_from(EMERGENCY_FIELDS))
def test_any_emergency_sign_means_emergency(case: Case, which: str) -> None:
    emergency = case.emergency.model_copy(update={which: Answer.YES})
    result = assess(case.model_copy(update={"emergency": emergency}), KB, AS_OF)
    assert result.triage.level == "emergency"
    assert any(r.kind == "emergency" for r in result.triage.reasons)


@runs(2_000)
@given(case=CASES, which=st.sampled_from(EMERGENCY_FIELDS))
def test_unanswered_emergency_question_is_never_routine(case: Case, which: str) -> None:
    answers = dict.fromkeys(EMERGENCY_FIELDS, Answer.NO) | {which: Answer.UNKNOWN}
    result = assess(case.model_copy(update={"emergency": Emergency(**answers)}), KB, AS_OF)
    # Not asked: never routine; an urgent finding elsewhere in the case may rank it higher.
    assert result.triage.level in {"prompt_referral", "urgent"}
    assert result.triage.unanswered_emergency[0].fact.startswith("emergency.")
    assert f"emergency.{which}" in {m.fact for m in result.triage.unanswered_emergency}
    assert result.missing_information[0].stakes == "emergency"


@runs(2_000)
@given(case=CASES, which=st.sampled_from(SIGN_FIELDS))
def test_adding_a_warning_sign_never_lowers_suspicion(case: Case, which: str) -> None:
    before = assess(case, KB, AS_OF).suspicion.level
    signs = case.signs.model_copy(update={which: Answer.YES})
    after = assess(case.model_copy(update={"signs": signs}), KB, AS_OF).suspicion.level
    # "Cannot tell" (every core sign unknown) becomes "low" once one is answered: the unknown is
    # resolved, nothing is lowered, and the open inputs are still named in the headline.
    rank = {**SUSPICION_ORDER, "cannot_tell": SUSPICION_ORDER["low"]}
    assert rank[after] >= rank[before]


@runs(1_000)
@given(case=CASES)
def test_every_result_carries_disclaimer_citations_and_version(case: Case) -> None:
    result = assess(case, KB, AS_OF)
    assert result.disclaimer.strip()
    assert result.provenance.citations
    assert result.provenance.knowledge_version == KB.version
    for conclusion in (*result.triage.reasons, *result.suspicion.reasons, *result.recommendations):
        assert conclusion.sources, conclusion.rule


@runs(300)
@given(case=CASES)
def test_same_input_same_output(case: Case) -> None:
    assert assess(case, KB, AS_OF) == assess(case, KB, AS_OF)
