"""Reads the knowledge files (YAML and Markdown with front matter), validates and compiles them."""

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml
from pydantic import ValidationError

from fusionwatch.core.checks import check
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import KnowledgeError
from fusionwatch.core.knowledge import KnowledgeBase
from fusionwatch.knowledge.labels import Catalogue, Language, check_language

ROOT = resources.files("fusionwatch.knowledge")


@cache
def load() -> Knowledge:
    """The packaged knowledge base, checked and compiled (read once per process)."""
    return compile_files(ROOT)


@cache
def load_labels(language: str = "en") -> Catalogue:
    """The labels reports use in one language, checked against the packaged facts."""
    return read_labels(ROOT, load(), language)


def read_labels(root: Traversable, kb: Knowledge, language: str = "en") -> Catalogue:
    """Read and check ``labels.yaml``; every language in it must name every value a report shows."""
    raw = _yaml(root / "labels.yaml")
    if not isinstance(raw, dict) or language not in raw:
        raise KnowledgeError([f"labels.yaml: no labels for language {language!r}"])
    languages: dict[str, Language] = {}
    problems: list[str] = []
    for code, block in raw.items():
        try:
            languages[code] = Language.model_validate(block)
        except ValidationError as err:
            problems += [f"labels.{code}.{_describe(e)}" for e in err.errors()]
            continue
        problems += check_language(code, languages[code], kb)
    if problems:
        raise KnowledgeError(problems)
    return Catalogue(language, languages[language], kb)


def compile_files(root: Traversable) -> Knowledge:
    data = read_files(root)
    problems = check(data)
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(data)


def read_files(root: Traversable) -> KnowledgeBase:
    """Parse every knowledge file under ``root`` into the schema (no semantic checks yet)."""
    citations = _yaml(root / "citations.yaml")
    raw = {
        "manifest": _yaml(root / "manifest.yaml"),
        "facts": _yaml(root / "facts.yaml"),
        "thresholds": _yaml(root / "thresholds.yaml"),
        "citations": citations["citations"],
        "article_references": citations["article_references"],
        "messages": _yaml(root / "messages.yaml"),
        "tables": [_yaml(f) for f in _files(root / "tables", ".yaml")],
        "rules": [_yaml(f) for f in _files(root / "rules", ".yaml")],
        "education": [_markdown(f) for f in _files(root / "education", ".md")],
        "policies": [_yaml(f) for f in _files(root / "policies", ".yaml")],
        "translations": {
            folder.name: [_markdown(f) for f in _files(folder, ".md")]
            for folder in _languages(root / "education")
        },
    }
    try:
        return KnowledgeBase.model_validate(raw)
    except ValidationError as err:
        raise KnowledgeError([_describe(e) for e in err.errors()]) from err


def _files(folder: Traversable, suffix: str) -> list[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(suffix)), key=lambda f: f.name)


def _languages(folder: Traversable) -> list[Traversable]:
    """Each sub-folder of education/ holds one language's translations, named by its code."""
    return sorted((f for f in folder.iterdir() if f.is_dir()), key=lambda f: f.name)


def _yaml(path: Traversable) -> Any:
    try:
        return _parse(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise KnowledgeError([f"{path.name}: not valid YAML ({err})"]) from err


def _parse(text: str) -> Any:
    # The packaged knowledge is trusted and read on every start: the safe loader, in C when
    # PyYAML has libyaml (about nine times faster, most of a cold `assess`), else in Python.
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader either way


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _markdown(path: Traversable) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise KnowledgeError([f"{path.name}: education files start with '---' front matter"])
    front, _, body = text[4:].partition("\n---\n")
    meta = _parse(front)
    if not isinstance(meta, dict):
        raise KnowledgeError([f"{path.name}: front matter must be a mapping"])
    return {**meta, "body": body.strip()}


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}"
