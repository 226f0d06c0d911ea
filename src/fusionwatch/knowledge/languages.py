"""Short knowledge texts in other languages: read, checked against the English, and applied.

``knowledge/languages/<code>.yaml`` translates every short patient text of the knowledge base
(facts' questions and choice labels, rules' and policy pathways' patient texts, rules' goals,
messages, the labels catalogue's patient wording). Each entry carries ``translates``, the
fingerprint of the English it was written from, like the education translations (decisions 0007
and 0013). Applying a language gives a knowledge base whose patient texts are in that language;
clinician wording, numbers, codes and logic are the source's, untouched.
"""

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from babel.numbers import get_decimal_symbol
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fusionwatch.core.knowledge import Fact, KnowledgeBase, Message, Policy, Rule
from fusionwatch.knowledge.labels import Language, Wording

Source = dict[str, dict[str, dict[str, Any]]]
# Placeholders the engine fills ("{derived.last_ct_month}", "{open}") must survive translation.
_PLACEHOLDER = re.compile(r"\{[a-z_.]+(?::[a-z]+)?\}")
# Numbers compare with the decimal comma read as a point ("26,5" is "26.5").
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_PARTS = ("facts", "rules", "policies", "messages", "labels")


class Entry(BaseModel):
    """One translated entry: the fingerprint of its English and the translated fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    translates: str = Field(pattern=r"^[0-9a-f]{12}$")

    def texts(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class LanguageFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    name: str = Field(description="the language's own name, for the language switch")
    facts: dict[str, Entry] = {}
    rules: dict[str, Entry] = {}
    policies: dict[str, Entry] = {}
    messages: dict[str, Entry] = {}
    labels: dict[str, Entry] = {}


def fingerprint(fields: Mapping[str, Any]) -> str:
    """First 12 hex digits of SHA-256 over the English fields an entry translates."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(text).hexdigest()[:12]


def source_texts(data: KnowledgeBase, labels: Language) -> Source:
    """Every English patient text a language must translate, by part and key."""
    return {
        "facts": {f.id: _fact_fields(f) for f in data.facts if f.patient or f.labels},
        "rules": {r.id: _rule_fields(r) for r in data.rules},
        "policies": {
            f"{p.id}/{w.id}": {"patient": w.patient} for p in data.policies for w in p.pathways
        },
        "messages": {k: {"patient": m.patient} for k, m in data.messages.items()},
        "labels": dict(_label_fields(labels)),
    }


def parse(raw: Any, where: str) -> tuple[LanguageFile | None, list[str]]:
    try:
        return LanguageFile.model_validate(raw), []
    except ValidationError as err:
        return None, [f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]


def check(code: str, file: LanguageFile, source: Source) -> list[str]:
    """Refuse a language that misses an entry, has one the English lacks, or is stale."""
    problems = [] if file.language == code else [f"languages/{code}: says language {file.language}"]
    for part in _PARTS:
        english, done = source[part], getattr(file, part)
        where = f"languages/{code}/{part}"
        problems += [f"{where}: no translation of {k!r}" for k in english if k not in done]
        problems += [f"{where}: {k!r} has no English" for k in done if k not in english]
        for key in english.keys() & done.keys():
            problems += _entry_problems(f"{where}/{key}", english[key], done[key])
    return problems


def _entry_problems(where: str, english: dict[str, Any], entry: Entry) -> list[str]:
    now = fingerprint(english)
    if entry.translates != now:
        return [f"{where}: stale, written from {entry.translates} but the source is now {now}"]
    texts = entry.texts()
    if set(texts) != set(english):
        return [f"{where}: translates {sorted(texts)}, the English has {sorted(english)}"]
    problems = []
    for field, text in _flat(english):
        theirs = _lookup(texts, field)
        if not isinstance(theirs, str) or not theirs.strip():
            problems.append(f"{where}.{field}: empty")
        elif sorted(_PLACEHOLDER.findall(text)) != sorted(_PLACEHOLDER.findall(theirs)):
            problems.append(f"{where}.{field}: placeholders differ from the English")
        elif _numbers(text) != _numbers(theirs):
            problems.append(f"{where}.{field}: numbers differ from the English")
    return problems


def apply(data: KnowledgeBase, file: LanguageFile) -> KnowledgeBase:
    """The knowledge base with its patient texts in the file's language (education included)."""
    facts = tuple(_fact(f, file.facts.get(f.id)) for f in data.facts)
    rules = tuple(_rule(r, file.rules[r.id]) for r in data.rules)
    policies = tuple(_policy(p, file.policies) for p in data.policies)
    messages = {k: _message(m, file.messages[k]) for k, m in data.messages.items()}
    texts = {t.id: t for t in data.translations.get(file.language, ())}
    education = tuple(
        e.model_copy(update={"title": texts[e.id].title, "body": texts[e.id].body})
        for e in data.education
    )
    return data.model_copy(
        update={
            "facts": facts,
            "rules": rules,
            "policies": policies,
            "messages": messages,
            "education": education,
            # Values the engine writes into patient texts take the language's decimal sign.
            "decimal_sign": get_decimal_symbol(file.language),
        }
    )


def labels_in(english: Language, file: LanguageFile) -> Language:
    """The labels catalogue with the patient wording in the file's language."""
    update: dict[str, Any] = {}
    for part, table in english:
        if part == "choices":
            update[part] = {
                fact: dict(file.labels[f"choices.{fact}"].texts()["values"]) for fact in table
            }
            continue
        update[part] = {
            key: wording.model_copy(update=file.labels[f"{part}.{key}"].texts())
            for key, wording in table.items()
        }
    return english.model_copy(update=update)


def _fact_fields(fact: Fact) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if fact.patient:
        fields["patient"] = fact.patient
    if fact.labels:
        fields["labels"] = dict(fact.labels)
    if fact.unit and fact.patient:
        fields["unit"] = fact.unit
    return fields


def _label_fields(labels: Language) -> Iterator[tuple[str, dict[str, Any]]]:
    for part, table in labels:
        if part == "choices":
            for fact, values in table.items():
                yield f"choices.{fact}", {"values": dict(values)}
            continue
        for key, wording in table.items():
            fields = {k: v for k, v in wording.model_dump().items() if k.endswith("patient")}
            if not isinstance(wording, Wording):
                continue
            yield f"{part}.{key}", fields


def _fact(fact: Fact, entry: Entry | None) -> Fact:
    return fact if entry is None else fact.model_copy(update=entry.texts())


def _rule_fields(rule: Rule) -> dict[str, Any]:
    """A rule's patient text, and its goal when it has one (a patient reads "Goal: ...")."""
    fields = {"patient": rule.then.patient}
    if rule.then.target:
        fields["target"] = rule.then.target
    return fields


def _rule(rule: Rule, entry: Entry) -> Rule:
    texts = entry.texts()
    then = rule.then.model_copy(update={k: texts[k] for k in _rule_fields(rule)})
    return rule.model_copy(update={"then": then})


def _policy(policy: Policy, entries: Mapping[str, Entry]) -> Policy:
    pathways = tuple(
        w.model_copy(update={"patient": entries[f"{policy.id}/{w.id}"].texts()["patient"]})
        for w in policy.pathways
    )
    return policy.model_copy(update={"pathways": pathways})


def _message(message: Message, entry: Entry) -> Message:
    return message.model_copy(update={"patient": entry.texts()["patient"]})


def _flat(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in fields.items():
        if isinstance(value, Mapping):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)


def _lookup(texts: Mapping[str, Any], dotted: str) -> Any:
    node: Any = texts
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _numbers(text: str) -> list[str]:
    return sorted(n.replace(",", ".") for n in _NUMBER.findall(text))
