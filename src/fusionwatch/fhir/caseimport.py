"""FHIR resources (a Bundle, or CDS Hooks prefetch) read into a case, with what could not be used.

Nothing is guessed: an unknown code, an unknown unit or a date too coarse for the rules becomes a
note ("cannot assess", with the reason) and the fact stays unknown.
"""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Fact, FactType
from fusionwatch.core.months import months_between
from fusionwatch.core.spine import parse_level
from fusionwatch.fhir.codes import (
    ANSWER_CODES,
    NOT_THE_SAME,
    NOTED_DIAGNOSES,
    System,
    case_facts,
    fact_index,
)
from fusionwatch.fhir.panels import LEVEL, STUDY, VISIT, nest, panel_kind, read_components
from fusionwatch.fhir.scoreseries import Score, read_score, score_field, visits_from_scores
from fusionwatch.fhir.validation import InvalidResourceError, validate
from fusionwatch.files.case import parse_data

Resource = dict[str, Any]
DAYS_PER_MONTH = 30.4375
_ANSWER_OF_CODE = {code: answer for answer, code in ANSWER_CODES.items()}
_SKIPPED_STATUS = {"entered-in-error", "cancelled", "preliminary", "registered", "not-done"}
_GENDERS = {"female": "female", "male": "male", "other": "other"}


@dataclass(frozen=True, slots=True)
class Note:
    """Something in the input that was not used, and why."""

    source: str
    reason: str
    fact: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    case: Case
    patient_id: str | None
    notes: tuple[Note, ...]


@dataclass
class _Level:
    """A level panel, found by its fullUrl or Observation/id; ``taken`` once a study lists it."""

    source: str
    data: dict[str, Any]
    keys: set[str]
    taken: bool = False


@dataclass
class _Reading:
    """The values found so far, keyed by fact id, with the date each was observed."""

    kb: Knowledge
    as_of: dt.date
    index: dict[tuple[str, str], Fact]
    values: dict[str, tuple[str, Any]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    patient_id: str | None = None
    # The Bundle entry's fullUrl of the resource being read, if it has one.
    url: str | None = None
    # Panels, in the order read: studies with their member references, levels, visits.
    studies: list[tuple[str, dict[str, Any], list[str]]] = field(default_factory=list)
    levels: list[_Level] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    operations: list[dict[str, Any]] = field(default_factory=list)
    # Fusion Procedures that do not say their kind, as (performed, resource, source): placed
    # once all are read (``_place_fusions``).
    fusions: list[tuple[str, Resource, str]] = field(default_factory=list)

    def put(self, fact: Fact, value: Any, when: str = "") -> None:
        earlier = self.values.get(fact.id)
        if earlier is None or when >= earlier[0]:
            self.values[fact.id] = (when, value)

    def note(self, source: str, reason: str, fact: str | None = None) -> None:
        self.notes.append(Note(source, reason, fact))


Item = tuple[str | None, Resource]  # a resource with its Bundle entry's fullUrl, if any


def bundle_items(bundle: Resource, url: str | None = None) -> Iterator[Item]:
    """The resources of a Bundle (any type) with their fullUrls, or the resource itself."""
    if bundle.get("resourceType") != "Bundle":
        yield url, bundle
        return
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            full_url = entry.get("fullUrl")
            yield from bundle_items(resource, full_url if isinstance(full_url, str) else None)


def import_bundle(bundle: Resource, kb: Knowledge, as_of: dt.date) -> Imported:
    identifier = bundle.get("identifier") if bundle.get("resourceType") == "Bundle" else None
    label = None
    if isinstance(identifier, dict) and identifier.get("system") == System.CASE_LABEL:
        label = identifier.get("value")
    return import_items(bundle_items(bundle), kb, as_of, label)


def import_resources(
    resources: Iterable[Resource], kb: Knowledge, as_of: dt.date, *, timeline: bool = True
) -> Imported:
    """Read resources (not in a Bundle) into one case (``timeline``: see ``import_items``)."""
    return import_items(((None, r) for r in resources), kb, as_of, timeline=timeline)


def import_items(
    items: Iterable[Item],
    kb: Knowledge,
    as_of: dt.date,
    label: str | None = None,
    *,
    timeline: bool = True,
) -> Imported:
    """Read every resource into one case; raises CaseError if the values found are invalid.

    ``timeline=False`` skips the timeline checks (``core.timeline``) for a cohort screen, which
    sets contradictory cells aside itself (``screen.timeline``).
    """
    reading = _Reading(kb, as_of, fact_index(kb))
    for url, resource in items:
        reading.url = url
        source = f"{resource.get('resourceType')}/{resource.get('id', '?')}"
        try:
            validate(resource)
        except InvalidResourceError as err:
            reading.note(source, f"cannot assess: not valid FHIR R4 ({err})")
            continue
        reader = _READERS.get(str(resource["resourceType"]))
        if reader is None:
            reading.note(source, "ignored: fusionwatch does not read this resource type")
        else:
            try:
                reader(reading, resource, source)
            except (TypeError, ValueError, KeyError, AttributeError, IndexError):
                # Valid FHIR can still hold shapes no reader expected: noted, never a crash.
                reading.note(source, "cannot assess: this resource could not be read")
    _place_fusions(reading)
    reading.operations.sort(key=lambda op: _months_ago(op, as_of))
    data = nest({k: v for k, (_, v) in sorted(reading.values.items())})
    if reading.operations:
        data.setdefault("surgery", {})["operations"] = reading.operations
    _add_panels(reading, data)
    if label is not None:
        data["label"] = label
    case = parse_data(data, as_of, timeline=timeline)
    return Imported(case, reading.patient_id, tuple(reading.notes))


def _add_panels(reading: _Reading, data: dict[str, Any]) -> None:
    """Studies with their levels (in member order) and visits, joined to the case data."""
    studies = [_with_levels(reading, *study) for study in reading.studies]
    for level in reading.levels:
        if not level.taken:
            reading.note(level.source, "ignored: imaging level not a member of any study", LEVEL)
    if studies:
        data.setdefault("imaging", {})["studies"] = studies
    if reading.visits:
        data["follow_up"] = reading.visits
        for score in reading.scores:
            reading.note(score.source, "ignored: the input also gives visits", VISIT)
        return
    fusion = reading.values.get("surgery.date")
    visits, left_out = visits_from_scores(
        reading.scores, fusion[0] if fusion else None, reading.as_of
    )
    for source, reason in left_out:
        reading.note(source, reason, VISIT)
    if visits:
        data["follow_up"] = visits


def _with_levels(
    reading: _Reading, source: str, study: dict[str, Any], members: list[str]
) -> dict[str, Any]:
    levels = []
    for member in members:
        keys = _reference_keys(member)
        found = next((lv for lv in reading.levels if not lv.taken and lv.keys & keys), None)
        if found is None:
            reading.note(
                source,
                f"cannot assess: member {member or '(no reference)'} not in the input",
                STUDY,
            )
        else:
            found.taken = True
            levels.append(found.data)
    return study | ({"levels": levels} if levels else {})


def _reference_keys(reference: str) -> set[str]:
    """What a reference can match: itself, without its version, and its Type/id tail."""
    plain = reference.split("/_history/", maxsplit=1)[0]
    keys = {reference, plain}
    if not plain.startswith("urn:") and plain.count("/") >= 1:
        keys.add("/".join(plain.rsplit("/", 2)[-2:]))
    return keys - {""}


# ---- resource readers ---------------------------------------------------------------------------


def _patient(reading: _Reading, resource: Resource, source: str) -> None:
    reading.patient_id = resource.get("id")
    gender = resource.get("gender")
    if gender in _GENDERS:
        reading.put(_fact(reading, "person.sex"), _GENDERS[gender])
    birth = resource.get("birthDate")
    if isinstance(birth, str) and "person.age" not in reading.values:
        if len(birth) < 10:
            reading.note(
                source, "cannot assess age: birth date known only to " + birth, "person.age"
            )
            return
        born = dt.date.fromisoformat(birth)
        age = (
            reading.as_of.year
            - born.year
            - ((reading.as_of.month, reading.as_of.day) < (born.month, born.day))
        )
        reading.put(_fact(reading, "person.age"), age, "0")


def _procedure(reading: _Reading, resource: Resource, source: str) -> None:
    fact = _coded_fact(reading, resource.get("code"))
    if fact is None or fact.id != "surgery.date":
        reading.note(source, "ignored: not coded as a spinal fusion (SNOMED CT 55705006)")
        return
    if resource.get("status") != "completed":
        reading.note(source, f"ignored: procedure status is {resource.get('status')}", fact.id)
        return
    performed = resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get(
        "start"
    )
    kind = _code_of(resource.get("category"), System.OPERATION_KIND)
    if kind is not None:
        _operation(reading, resource, kind, str(performed or ""), source)
        return
    reading.fusions.append((str(performed or ""), resource, source))


def _place_fusions(reading: _Reading) -> None:
    """The first fusion day is the index fusion, each later day a later operation.

    A Procedure that does not say extension, revision or staged is a later operation of kind
    ``unspecified`` (it times the healing clock, and is never read as a revision for nonunion),
    as the OMOP input reads later fusion days; several Procedures on one day are one operation,
    their levels together. A fusion without a date cannot be placed in time: when a dated one
    exists it is a later operation without a date, so timing stays unknown rather than counted
    from a fusion that may not be the last. A later fusion coded in another region may extend the
    fusion across the border or be a separate fusion elsewhere: it is an operation without a date
    or levels, so the timing and the level count are unknown rather than guessed either way.
    """
    days: dict[str, list[tuple[str, Resource, str]]] = {}
    for when, resource, source in reading.fusions:
        days.setdefault(when[:10], []).append((when, resource, source))
    order = sorted(days, key=lambda day: (day == "", day))
    index_regions: list[str] = []
    for n, day in enumerate(order):
        regions: list[str] = []
        levels: list[str] = []
        for _, resource, source in days[day]:
            found_regions, found_levels = _body_sites(
                reading, resource.get("bodySite") or (), source
            )
            regions += [r for r in found_regions if r not in regions]
            levels += [lv for lv in found_levels if lv not in levels]
        when, _, source = days[day][0]
        if n == 0:
            _fusion_date(reading, when, source)
            for region in regions:
                reading.put(_fact(reading, "surgery.region"), region, when)
            if levels:
                reading.put(_fact(reading, LEVEL_FACT), levels, when)
            index_regions = regions
        elif index_regions and regions and not set(regions) & set(index_regions):
            reading.operations.append({"kind": "unspecified"})
            reading.note(
                source,
                "cannot assess timing: a later fusion coded in another region"
                f" ({', '.join(regions)}) may or may not be at the fused levels; read as a later"
                " operation without a date or levels",
            )
        else:
            _later_fusion(reading, day, levels, source)


def _months_ago(operation: dict[str, Any], as_of: dt.date) -> float:
    """Sort key of a later operation, oldest first (``prior_failed_fusion`` reads them in
    order): a Procedure marked extension or revision may be read before an earlier unmarked one.
    An operation without a readable date or months sorts last, in reading order (the case's
    validation then names a date that is not one)."""
    try:
        if "date" in operation:
            return -months_between(dt.date.fromisoformat(operation["date"]), as_of)
        if operation.get("months_since") is not None:
            return -float(operation["months_since"])
    except (TypeError, ValueError):
        pass
    return float("inf")


def _later_fusion(reading: _Reading, day: str, levels: list[str], source: str) -> None:
    operation: dict[str, Any] = {"kind": "unspecified"}
    if len(day) == 10:
        operation["date"] = day
    else:
        reading.note(
            source, f"cannot assess timing: operation date {day or 'missing'} is not a day"
        )
    if levels:
        operation["levels"] = levels
    reading.operations.append(operation)
    reading.note(
        source,
        "a later fusion: read as a later operation of unspecified kind (the Procedure does not"
        " say extension, revision or staged)",
    )


def _operation(reading: _Reading, resource: Resource, kind: str, when: str, source: str) -> None:
    """A fusion Procedure marked as a later operation (extension, revision, staged)."""
    operation: dict[str, Any] = {"kind": kind}
    if len(when) >= 10:
        operation["date"] = when[:10]
    elif when:
        reading.note(source, f"cannot assess timing: operation date {when} is not a day")
    for extension in resource.get("extension") or ():
        if extension.get("url") == System.OPERATION_MONTHS:
            operation["months_since"] = extension.get("valueDecimal")
    levels = [s["text"] for s in resource.get("bodySite") or () if isinstance(s.get("text"), str)]
    if levels:
        operation["levels"] = levels
    for reason in resource.get("reasonCode") or ():
        code = _code_of(reason, System.OPERATION_REASON)
        if code is not None:
            operation["reason"] = code
    reading.operations.append(operation)


def _fusion_date(reading: _Reading, when: str, source: str) -> None:
    day = when[:10]
    if len(day) == 10:
        reading.values.pop("surgery.months_since", None)
        reading.put(_fact(reading, "surgery.date"), day, when)
    elif len(day) == 7:
        # Known to the month: count from mid-month, so the error is at most half a month.
        middle = dt.date(int(day[:4]), int(day[5:7]), 15)
        months = max(0.0, round((reading.as_of - middle).days / DAYS_PER_MONTH, 1))
        reading.values.pop("surgery.date", None)
        reading.put(_fact(reading, "surgery.months_since"), months, when)
        reading.note(
            source,
            f"fusion date known to the month ({day}): months since surgery "
            f"taken from mid-month, ±0.5 month",
            "surgery.months_since",
        )
    elif day:
        reading.note(
            source,
            f"cannot assess timing: fusion date {when or 'missing'} is not precise to the month",
            "surgery.date",
        )


def _body_sites(
    reading: _Reading, sites: Iterable[Any], source: str
) -> tuple[list[str], list[str]]:
    """The regions coded and the levels named in a fusion's body sites, in their order."""
    regions: list[str] = []
    levels: list[str] = []
    for site in sites:
        region = _coded_value(reading, "surgery.region", site)
        text = site.get("text")
        if region is not None:
            regions.append(region)
            # Beside a region code the text may name the levels ("L4-S1") or only the region.
            if isinstance(text, str) and _is_level(text):
                levels.append(text)
            elif isinstance(text, str) and any(ch.isdigit() for ch in text):
                reading.note(source, f"body site text {text!r} not read as levels", LEVEL_FACT)
        elif site.get("coding"):
            reading.note(source, "cannot assess body site: code not recognised", "surgery.region")
        elif isinstance(text, str):
            levels.append(text)
    return regions, levels


LEVEL_FACT = "surgery.levels"


def _is_level(text: str) -> bool:
    try:
        parse_level(text)
    except ValueError:
        return False
    return True


def _condition(reading: _Reading, resource: Resource, source: str) -> None:
    for coding in (resource.get("code") or {}).get("coding") or ():
        if coding.get("system") == System.ICD10CM and coding.get("code") in NOTED_DIAGNOSES:
            reading.note(
                source,
                f"noted, not used by the rules: {coding['code']} {NOTED_DIAGNOSES[coding['code']]}",
            )
            return
    fact = _coded_fact(reading, resource.get("code"))
    if fact is None or fact.type is not FactType.ANSWER:
        reading.note(source, "cannot assess: condition code not in the data dictionary")
        return
    verification = _code_of(resource.get("verificationStatus"), System.CONDITION_VERIFICATION)
    clinical = _code_of(resource.get("clinicalStatus"), System.CONDITION_CLINICAL)
    if verification == "refuted":
        reading.put(fact, "no", _effective(resource, "recordedDate"))
    elif verification in {None, "confirmed"} and clinical in {None, "active", "recurrence"}:
        reading.put(fact, "yes", _effective(resource, "recordedDate"))
    else:
        reading.note(source, f"cannot assess: condition is {verification}/{clinical}", fact.id)


def _observation(reading: _Reading, resource: Resource, source: str) -> None:
    kind = panel_kind(resource)
    if kind is not None:
        _panel(reading, kind, resource, source)
        return
    score = score_field(resource)
    if score is not None:
        _score(reading, score, resource, source)
        return
    fact = _coded_fact(reading, resource.get("code"))
    codes = _codes(resource.get("code"))
    if fact is None:
        other = next((NOT_THE_SAME[c] for c in codes if c in NOT_THE_SAME), None)
        reading.note(
            source, "cannot assess: " + (other or "observation code not in the data dictionary")
        )
        return
    if resource.get("status") in _SKIPPED_STATUS:
        reading.note(source, f"ignored: status {resource.get('status')}", fact.id)
        return
    value, problem = _value(reading, fact, resource)
    if problem:
        reading.note(source, "cannot assess: " + problem, fact.id)
        return
    reading.put(fact, value, _effective(resource, "effectiveDateTime"))


def _panel(reading: _Reading, kind: str, resource: Resource, source: str) -> None:
    if resource.get("status") in _SKIPPED_STATUS:
        reading.note(source, f"ignored: status {resource.get('status')}", kind)
        return
    data, problems = read_components(kind, resource)
    for problem in problems:
        reading.note(source, "cannot assess: " + problem, kind)
    if data is None:
        return
    if kind == STUDY:
        members = [str(m.get("reference") or "") for m in resource.get("hasMember") or ()]
        reading.studies.append((source, data, members))
    elif kind == LEVEL:
        # Outside a Bundle (FHIR Bulk NDJSON), a member reference written as the entry's
        # urn:uuid still finds the panel whose id is that uuid (as `fhir export` writes them).
        own = resource.get("id")
        ids = {f"Observation/{own}", f"urn:uuid:{own}"} if own else set()
        keys = {reading.url or ""} | ids
        reading.levels.append(_Level(source, data, keys - {""}))
    else:
        reading.visits.append(data)


def _score(reading: _Reading, name: str, resource: Resource, source: str) -> None:
    if resource.get("status") in _SKIPPED_STATUS:
        reading.note(source, f"ignored: status {resource.get('status')}", VISIT)
        return
    score, problem = read_score(resource, source, name)
    if score is None:
        reading.note(source, "cannot assess: " + problem, VISIT)
    else:
        reading.scores.append(score)


_READERS = {
    "Patient": _patient,
    "Procedure": _procedure,
    "Condition": _condition,
    "Observation": _observation,
}


# ---- values -------------------------------------------------------------------------------------


def _value(reading: _Reading, fact: Fact, resource: Resource) -> tuple[Any, str]:
    match fact.type:
        case FactType.NUMBER:
            return _number(fact, resource)
        case FactType.ANSWER:
            return _answer(resource)
        case FactType.CHOICE:
            choice = _coded_value(reading, fact.id, resource.get("valueCodeableConcept") or {})
            return (choice, "") if choice else (None, "answer code not recognised")
        case FactType.DATE:
            day = str(resource.get("valueDateTime") or "")[:10]
            return (
                (day, "") if len(day) == 10 else (None, f"date {day or 'missing'} not a full day")
            )
        case FactType.TEXT:
            text = resource.get("valueString")
            return ([t.strip() for t in text.split(",")], "") if text else (None, "no text value")


def _answer(resource: Resource) -> tuple[Any, str]:
    if isinstance(resource.get("valueBoolean"), bool):
        return ("yes" if resource["valueBoolean"] else "no"), ""
    answer = _code_of(resource.get("valueCodeableConcept"), System.SNOMED)
    if answer in _ANSWER_OF_CODE:
        return _ANSWER_OF_CODE[answer], ""
    return None, f"answer code {answer} is not yes / no / unknown"


def _number(fact: Fact, resource: Resource) -> tuple[Any, str]:
    if isinstance(resource.get("valueInteger"), int) and fact.codes.get("ucum") == "{score}":
        return resource["valueInteger"], ""
    quantity = resource.get("valueQuantity") or {}
    number = quantity.get("value")
    if not isinstance(number, int | float):
        return None, "no numeric value"
    ucum = fact.codes.get("ucum")
    if ucum is not None:
        if (quantity.get("system"), quantity.get("code")) != (System.UCUM, ucum):
            return None, f"unit {quantity.get('code') or quantity.get('unit')} is not UCUM {ucum}"
    elif quantity.get("unit") != fact.unit:
        return None, f"unit {quantity.get('unit')} is not {fact.unit}"
    return (int(number) if float(number).is_integer() else float(number)), ""


def _fact(reading: _Reading, fact_id: str) -> Fact:
    return next(f for f in case_facts(reading.kb) if f.id == fact_id)


def _coded_fact(reading: _Reading, concept: Any) -> Fact | None:
    for coding in (concept or {}).get("coding") or ():
        fact = reading.index.get((coding.get("system"), coding.get("code")))
        if fact is not None:
            return fact
    return None


def _coded_value(reading: _Reading, fact_id: str, concept: Any) -> str | None:
    fact = _fact(reading, fact_id)
    by_code = {code: value for value, code in fact.value_codes.items()}
    own = f"{System.FACT}/{fact.id}"
    for coding in concept.get("coding") or ():
        if coding.get("system") == System.SNOMED and coding.get("code") in by_code:
            return by_code[coding["code"]]
        if coding.get("system") == own and coding.get("code") in fact.values:
            return str(coding["code"])
    return None


def _codes(concept: Any) -> list[tuple[str, str]]:
    return [(c.get("system"), c.get("code")) for c in (concept or {}).get("coding") or ()]


def _code_of(concept: Any, system: str) -> str | None:
    for coding in (concept or {}).get("coding") or ():
        if coding.get("system") == system:
            return str(coding.get("code"))
    return None


def _effective(resource: Resource, key: str) -> str:
    return str(resource.get(key) or (resource.get("effectivePeriod") or {}).get("start") or "")
