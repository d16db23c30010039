"""``nengli evaluate diagnosis`` through the CLI on a small simulated province."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from competency_model.errors import NengliError
from service.cli.main import app


def test_evaluate_diagnosis_prints_metrics_json():
    result = CliRunner().invoke(
        app, ["evaluate", "diagnosis", "--teachers", "300", "--seed", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    configurations = [
        report["model"],
        report["baselines"]["sum_score"],
        report["baselines"]["dina_uniform_prior"],
        report["adaptive"]["15"],
        report["adaptive"]["30"],
    ]
    for metrics in configurations:
        assert {"accuracy", "auc", "ece"} <= set(metrics)
        assert 0.0 <= metrics["accuracy"] <= 1.0
    assert report["adaptive"]["15"]["mean_items_asked"] <= 15


def test_too_few_teachers_is_a_clear_error():
    result = CliRunner().invoke(app, ["evaluate", "diagnosis", "--teachers", "5"])
    assert result.exit_code != 0
    assert isinstance(result.exception, NengliError)
    assert "--teachers" in result.exception.message


@pytest.mark.parametrize("flag", ["--teachers", "--seed"])
def test_help_lists_options(flag):
    result = CliRunner().invoke(app, ["evaluate", "diagnosis", "--help"])
    assert flag in result.output


def test_family_the_simulator_does_not_know_is_a_clear_error():
    result = CliRunner().invoke(
        app, ["evaluate", "diagnosis", "--teachers", "300", "--family", "no-such-family"]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, NengliError)
    assert "--family" in result.exception.message


def test_unknown_subset_is_a_clear_error():
    result = CliRunner().invoke(app, ["evaluate", "diagnosis", "--subsets", "grades,nonsense"])
    assert isinstance(result.exception, NengliError)
    assert "nonsense" in result.exception.message


def test_subsets_only_reports_every_method_split_by_direct_evidence():
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "diagnosis",
            "--teachers",
            "200",
            "--seed",
            "1",
            "--subsets",
            "records",
            "--subsets-only",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert "model" not in report  # the questionnaire comparison was skipped
    entry = report["subsets"]["records"]
    for method in ("model", "factor", "prior_only", "factor_prior_only", "graph_neighbour"):
        assert set(entry[method]) == {"with_evidence", "without_evidence"}
        assert {"auc", "ece", "cells"} <= set(entry[method]["without_evidence"])
    assert entry["factor_calibration"][2] is False  # no grades: nothing to calibrate on
