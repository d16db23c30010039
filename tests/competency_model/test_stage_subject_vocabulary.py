"""Stage and subject spellings: the shipped vocabulary, a province's extension, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from competency_model.catalog import SUBJECTS_BY_STAGE
from competency_model.errors import FrameworkError
from competency_model.vocabulary import default_vocabulary, load_vocabulary


def test_every_catalog_subject_is_its_own_canonical_spelling() -> None:
    vocab = default_vocabulary()
    for stage, subjects in SUBJECTS_BY_STAGE.items():
        for subject in subjects:
            assert vocab.subject(subject, stage) == subject, (stage, subject)


@pytest.mark.parametrize(
    ("value", "stage", "canonical"),
    [
        ("信息技术", "小学", "信息科技"),
        ("信息科技", "高中", "信息技术"),
        ("思想政治", "初中", "道德与法治"),
        ("道德与法治", "高中", "思想政治"),
        ("Ｍａｔｈ", "初中", "数学"),
    ],
)
def test_synonyms_map_to_the_stage_spelling(value: str, stage: str, canonical: str) -> None:
    assert default_vocabulary().subject(value, stage) == canonical


def test_province_file_extends_the_vocabulary(tmp_path: Path) -> None:
    path = tmp_path / "vocab.json"
    path.write_text(
        json.dumps({"name": "苏州", "subjects": [{"name": "书法", "aliases": ["写字"]}]}),
        encoding="utf-8",
    )
    vocab = load_vocabulary(path)
    assert vocab.subject("写字") == "书法" and vocab.subject("信息技术", "初中") == "信息科技"
    assert default_vocabulary().subject("写字") is None


def test_bad_vocabulary_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"subjects": [{"nme": "书法"}]}), encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"subjects\.0"):
        load_vocabulary(path)


def test_one_spelling_for_two_subjects_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vocab.json"
    path.write_text(
        json.dumps({"subjects": [{"name": "书法", "aliases": ["信息技术"]}]}), encoding="utf-8"
    )
    with pytest.raises(FrameworkError, match="信息技术"):
        load_vocabulary(path)
