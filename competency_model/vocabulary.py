"""The vocabulary of the framework (environments, dimensions, edge kinds, ratings) and of teachers.

Teachers' stages and subjects are normalised here too (:class:`Vocabulary`), from a data file a
province can extend.

Kept apart from the schema so that low-level helpers (importers, the catalog) can normalise a
label without loading any framework. Everything here is re-exported by
:mod:`competency_model.framework`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from competency_model.errors import FrameworkError, first_validation_problem

__all__ = [
    "DIMENSIONS",
    "DIMENSION_LABELS_EN",
    "DIMENSION_LABELS_ZH",
    "EDGE_KINDS",
    "ENVIRONMENTS",
    "ENVIRONMENT_LABELS_EN",
    "ENVIRONMENT_LABELS_ZH",
    "ENVIRONMENT_LETTERS",
    "ORDERING_KINDS",
    "RATINGS",
    "LEGACY_VERIFICATION_STATUSES",
    "VERIFICATION_LABELS",
    "VOCABULARY_PATH",
    "Dimension",
    "EdgeKind",
    "Environment",
    "SubjectEntry",
    "VerificationStatus",
    "Vocabulary",
    "VocabularyFile",
    "default_vocabulary",
    "load_vocabulary",
    "normalize_environment",
    "vocabulary_key",
]

ENVIRONMENTS: tuple[str, ...] = ("multimedia", "blended", "smart")
ENVIRONMENT_LETTERS: dict[str, str] = {"multimedia": "A", "blended": "B", "smart": "C"}
ENVIRONMENT_LABELS_ZH: dict[str, str] = {
    "multimedia": "多媒体教学环境",
    "blended": "混合学习环境",
    "smart": "智慧学习环境",
}
ENVIRONMENT_LABELS_EN: dict[str, str] = {
    "multimedia": "multimedia teaching environment",
    "blended": "blended learning environment",
    "smart": "smart learning environment",
}
DIMENSIONS: tuple[str, ...] = (
    "learner_analysis",
    "instructional_design",
    "learning_guidance",
    "assessment",
)
DIMENSION_LABELS_ZH: dict[str, str] = {
    "learner_analysis": "学情分析",
    "instructional_design": "教学设计",
    "learning_guidance": "学法指导",
    "assessment": "学业评价",
}
DIMENSION_LABELS_EN: dict[str, str] = {
    "learner_analysis": "learner analysis",
    "instructional_design": "instructional design",
    "learning_guidance": "learning guidance",
    "assessment": "assessment",
}
EDGE_KINDS: tuple[str, ...] = ("progression", "prerequisite", "related")
#: Edge kinds that impose a learning order ("do the source first"); these must be acyclic.
ORDERING_KINDS: tuple[str, ...] = ("prerequisite", "progression")
RATINGS: tuple[str, ...] = ("优秀", "合格", "不合格")
#: How each verification status is shown to people, so an unverified name never looks official.
#: Three levels, computed from the sources listed per point (``Verification``): ``confirmed``
#: needs at least two independent sources stating the code and name.
VERIFICATION_LABELS: dict[str, str] = {
    "confirmed": "已核实/confirmed",
    "one_source": "单一来源/one source",
    "unverified": "未核实/unverified",
}
#: Statuses of files written before the three levels; the status is recomputed from sources.
LEGACY_VERIFICATION_STATUSES: tuple[str, ...] = ("verified", "weakly_verified")
Environment = Literal["multimedia", "blended", "smart"]
Dimension = Literal["learner_analysis", "instructional_design", "learning_guidance", "assessment"]
EdgeKind = Literal["progression", "prerequisite", "related"]
VerificationStatus = Literal["confirmed", "one_source", "unverified"]


def normalize_environment(value: str) -> str:
    """Return the canonical environment code for a code, letter or Chinese label.

    Accepts ``"multimedia"``, ``"A"``, ``"多媒体教学环境"`` (and the common 混合式学习环境 misspelling of 混合学习环境) so that
    imported platform data and CLI input need no pre-processing.

    Raises
    ------
    FrameworkError
        If the value names no environment.
    """
    text = str(value).strip()
    if text in ENVIRONMENTS:
        return text
    for code, letter in ENVIRONMENT_LETTERS.items():
        if text.upper() == letter or text == ENVIRONMENT_LABELS_ZH[code]:
            return code
    if text == "混合式学习环境":  # the common misspelling of the official 混合学习环境
        return "blended"
    raise FrameworkError(
        f"unknown environment {value!r}; use one of {', '.join(ENVIRONMENTS)} "
        "(or A/B/C, or the Chinese label)",
        details={"value": value},
    )


# --- Stages and subjects as platforms spell them ---------------------------------------------
#
# Platforms and curricula name the same subject differently: the 2022 curriculum renamed
# 信息技术 to 信息科技 for 小学/初中 while 高中 kept 信息技术, and 道德与法治 (小学/初中) is 思想政治 in
# 高中. A teacher whose subject is spelled the other way would never get that subject's courses,
# so spellings are normalised on import. The table is data (``data/vocabulary.json``) that a
# province extends with its own file (``nengli import --vocabulary FILE``), not code.

VOCABULARY_PATH = Path(__file__).parent / "data" / "vocabulary.json"
_SPACES = re.compile(r"[\s_\-·]+")


def vocabulary_key(value: str) -> str:
    """How spellings are compared: NFKC, no spaces/underscores/hyphens, lower case."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value))).lower()


class SubjectEntry(BaseModel):
    """One subject and its other spellings; ``by_stage`` names it where a stage differs."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    aliases: list[str] = []
    by_stage: dict[str, str] = {}


class VocabularyFile(BaseModel):
    """The JSON document of a vocabulary (the shipped one, or a province's extension)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "province"
    stages: dict[str, list[str]] = {}
    subjects: list[SubjectEntry] = []


class Vocabulary:
    """Stage and subject normalisation: spelling → canonical value, per stage for subjects.

    Build one with :func:`default_vocabulary` or :func:`load_vocabulary`; the lookups are plain
    dicts, so a column of a million cells is mapped with one ``Series.map``.

    Examples
    --------
    >>> vocab = default_vocabulary()
    >>> vocab.subject("信息技术", "初中"), vocab.subject("信息科技", "高中")
    ('信息科技', '信息技术')
    """

    def __init__(self, document: VocabularyFile) -> None:
        self.name = document.name
        self.stage_lookup: dict[str, str] = {}
        for stage, aliases in document.stages.items():
            for spelling in (stage, *aliases):
                self.stage_lookup[vocabulary_key(spelling)] = stage
        self.subject_lookup: dict[str, SubjectEntry] = {}
        for entry in document.subjects:
            for spelling in (entry.name, *entry.aliases, *entry.by_stage.values()):
                key = vocabulary_key(spelling)
                other = self.subject_lookup.get(key)
                if other is not None and other.name != entry.name:
                    raise FrameworkError(
                        f"vocabulary {document.name!r}: subject spelling {spelling!r} belongs to "
                        f"both {other.name!r} and {entry.name!r}; keep it in one entry",
                        details={"field": "subjects", "value": spelling},
                    )
                self.subject_lookup[key] = entry

    @property
    def stages(self) -> tuple[str, ...]:
        """The canonical stages, in file order."""
        return tuple(dict.fromkeys(self.stage_lookup.values()))

    def stage(self, value: str) -> str | None:
        """Canonical stage of a spelling, or ``None`` when it names no stage."""
        return self.stage_lookup.get(vocabulary_key(value))

    def subject(self, value: str, stage: str | None = None) -> str | None:
        """Canonical subject of a spelling for a teacher of ``stage``; ``None`` when unknown."""
        entry = self.subject_lookup.get(vocabulary_key(value))
        if entry is None:
            return None
        return entry.by_stage.get(stage or "", entry.name)


def _merged(base: VocabularyFile, extension: VocabularyFile) -> VocabularyFile:
    """``base`` extended by ``extension``: aliases appended, same-named subjects merged."""
    stages = {k: list(v) for k, v in base.stages.items()}
    for stage, aliases in extension.stages.items():
        stages.setdefault(stage, []).extend(aliases)
    subjects = {entry.name: entry.model_copy(deep=True) for entry in base.subjects}
    for entry in extension.subjects:
        if entry.name in subjects:
            subjects[entry.name].aliases += entry.aliases
            subjects[entry.name].by_stage.update(entry.by_stage)
        else:
            subjects[entry.name] = entry
    return VocabularyFile(
        name=f"{base.name}+{extension.name}", stages=stages, subjects=list(subjects.values())
    )


def _read_vocabulary(path: Path) -> VocabularyFile:
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise FrameworkError(
            f"cannot read vocabulary file {path}: {error}", details={"file": str(path)}
        ) from error
    try:
        return VocabularyFile.model_validate(raw)
    except ValidationError as error:
        where, message, value = first_validation_problem(error)
        raise FrameworkError(
            f"vocabulary file {path}: {where or 'document'}: {message} (got {value!r}); "
            'expected {"stages": {"小学": ["…"]}, "subjects": [{"name": "…", "aliases": ["…"]}]}',
            details={"file": str(path), "field": where},
        ) from error


@functools.lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The shipped national vocabulary (cached)."""
    return Vocabulary(_read_vocabulary(VOCABULARY_PATH))


def load_vocabulary(path: str | os.PathLike[str] | None = None) -> Vocabulary:
    """The shipped vocabulary extended by the province's file at ``path`` (if given).

    Raises
    ------
    FrameworkError
        If the file cannot be read, breaks the schema (the message names the key) or gives one
        spelling to two subjects.
    """
    if path is None:
        return default_vocabulary()
    base = _read_vocabulary(VOCABULARY_PATH)
    return Vocabulary(_merged(base, _read_vocabulary(Path(path))))
