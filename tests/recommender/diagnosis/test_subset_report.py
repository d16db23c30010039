"""Per-subset evaluation on a simulated province: split by direct evidence, baselines, bounds."""

from __future__ import annotations

import pytest

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from recommender.diagnosis.simulation_report import truth_matrix
from recommender.diagnosis.subset_report import evaluate_subsets


@pytest.fixture(scope="module")
def report(small_province):
    framework = default_framework()
    codes = framework.codes
    return evaluate_subsets(
        small_province,
        truth_matrix(small_province, "truth_mastery_initial", codes),
        truth_matrix(small_province, "truth_mastery", codes),
        load_item_bank(framework=framework),
        framework,
        load_catalog(),
        seed=0,
        subsets=("questionnaire", "grades_records"),
    )


def test_no_questionnaire_beats_graph_neighbour_baseline_without_direct_evidence(report):
    entry = report["grades_records"]
    learned = entry["model"]["without_evidence"]["auc"]
    assert learned >= entry["graph_neighbour"]["without_evidence"]["auc"] + 0.05


def test_questionnaire_diagnosis_is_calibrated_on_cells_with_evidence(report):
    # the shipped default (questionnaire model + fusion) is the graph_neighbour entry
    assert report["questionnaire"]["graph_neighbour"]["with_evidence"]["ece"] <= 0.05


def test_report_splits_every_cell_once(report, small_province):
    for entry in report.values():
        cells = [entry["model"][side]["cells"] for side in ("with_evidence", "without_evidence")]
        assert sum(cells) == len(small_province.teachers) * 30
