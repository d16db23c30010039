"""DiagnosisModel: the province-facing diagnostic scorer (questionnaire + evidence fusion).

Turns a :class:`~competency_model.province.Province` into per-teacher, per-point mastery with
uncertainty, from whatever inputs it has (questionnaire, grades, learning records, any mix).
The questionnaire's items are scored by :class:`HigherOrderDINA`; its per-point evidence, the
grades and the records then go to :class:`LatentClassMastery`, which learns from the province's
own data how points co-vary, what a grade means and what a completion is worth. Learned state is
plain arrays (:meth:`get_arrays`) so the model directory never needs pickle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.catalog import Catalog
from competency_model.errors import NengliError
from competency_model.framework import Framework, default_framework
from competency_model.graph import CompetencyGraph
from competency_model.item_bank import ItemBank
from competency_model.province import ProvinceTables
from recommender.diagnosis._checks import check_is_fitted
from recommender.diagnosis.adaptive import AdaptiveQuestionnaire
from recommender.diagnosis.factor_fit import (
    factor_data,
    fit_calibrated,
    predict_calibrated,
    record_volume,
)
from recommender.diagnosis.factor_model import FactorData
from recommender.diagnosis.fusion import (
    FusionConfig,
    estimate_grade_likelihood,
    evidence_log_odds,
    fuse,
)
from recommender.diagnosis.higher_order import HigherOrderDINA
from recommender.diagnosis.mixture import LatentClassMastery
from recommender.diagnosis.persistence import model_arrays, restore_model
from recommender.diagnosis.province_evidence import build_evidence, prior_tables
from recommender.diagnosis.province_inputs import (
    WEIGHT_COLUMNS,
    catalog_weights,
    completions_of,
    group_labels,
    latest_moment,
)
from recommender.diagnosis.teacher_features import (
    TeacherFeatures,
    environment_gap,
    point_environment_ranks,
    teacher_attribute_table,
)

__all__ = ["OUTPUT_COLUMNS", "DiagnosisModel"]

OUTPUT_COLUMNS = (
    "teacher_id",
    "point",
    "mastery_probability",
    "sd",
    "evidence_count",
    "insufficient_evidence",
)
_FITTED = ("estimator_", "codes_", "item_ids_")
#: Fewer grades than this leave the assumed grade likelihoods unchanged.
_MIN_GRADES_TO_LEARN = 200


class DiagnosisModel:
    """Fit on a province and an item bank; diagnose teachers in bulk or one at a time.

    Parameters
    ----------
    prior
        Profile prior of the questionnaire model (see :class:`HigherOrderDINA`).
    peer_group
        Which teachers count as similar for the prior: ``"environment"`` (school environment,
        the default), ``"environment_stage"`` or ``"environment_research_group"``.
    max_iter
        EM iterations.
    fusion
        Evidence-fusion settings; default :class:`FusionConfig()`.
    sd_threshold, max_items
        Stopping rule of :meth:`next_item` (adaptive questionnaire).
    learn_grades
        Refine the grade likelihoods of ``fusion`` by EM on the province's grades (when it has
        at least 200); the learned settings are ``fusion_``, used by the stated-weights
        pipeline (the graph-neighbour baseline). The learned model always learns them.
    structure
        ``"auto"`` (default): ``"fusion"`` when the province has questionnaire answers, else
        ``"factor"`` — without a questionnaire the stated weights leave every point without a
        grade near the prior (AUC ≈ 0.54 on cells without direct evidence), while the factor
        model learns from grades and records (AUC 0.78–0.81, docs/diagnosis.md §7); with a
        questionnaire fusion is better calibrated. ``structure_`` is what was fitted.
        ``"fusion"``: questionnaire posterior plus stated evidence weights spread
        along the hand-drawn graph. ``"learned"``: :class:`LatentClassMastery` learns the
        cross-point structure, grade likelihoods and completion effects from the province
        (experimental: it does not yet meet its calibration target, docs/diagnosis.md).
        ``"factor"``: :class:`FactorMastery`, a low-rank logistic model over teacher
        attributes, school and learned teacher factors, with learned grade emissions and
        completion weights, calibrated on held-out grades (:mod:`factor_fit`).
    n_classes
        Latent classes of the learned cross-point model.
    n_factors
        Rank of the factor model's teacher x point part.
    half_life_days
        Evidence of this age counts half in the learned model; None (default) = no decay, since
        nothing in the data says how fast mastery fades.
    random_state
        Seed of the EM subsample.
    """

    def __init__(
        self,
        *,
        prior: Literal["higher_order", "independent", "uniform"] = "higher_order",
        peer_group: str = "environment",
        max_iter: int = 100,
        fusion: FusionConfig | None = None,
        sd_threshold: float = 0.2,
        max_items: int = 30,
        learn_grades: bool = False,
        structure: Literal["auto", "fusion", "learned", "factor"] = "auto",
        n_classes: int = 8,
        n_factors: int = 2,
        half_life_days: float | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.prior = prior
        self.peer_group = peer_group
        self.max_iter = max_iter
        self.fusion = fusion
        self.sd_threshold = sd_threshold
        self.max_items = max_items
        self.learn_grades = learn_grades
        self.structure = structure
        self.n_classes = n_classes
        self.n_factors = n_factors
        self.half_life_days = half_life_days
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        province: ProvinceTables,
        item_bank: ItemBank,
        framework: Framework | None = None,
        catalog: Catalog | None = None,
    ) -> DiagnosisModel:
        """Fit the questionnaire model, then the learned model on all evidence; returns ``self``.

        Any of ``province.responses``, ``grades`` and ``events`` may be empty.
        """
        framework = framework or default_framework()
        self.bind(item_bank, framework)
        if catalog is not None:
            self.point_weights_ = catalog_weights(catalog)
        teachers = province.teachers
        if len(teachers) == 0:
            raise NengliError("province has no teachers; nothing to fit")
        codes = self.encode(province.responses, teachers["teacher_id"])
        labels = group_labels(teachers, province.schools, self.peer_group)
        self.group_names_ = np.array(sorted(set(labels)), dtype=str)
        groups = self._group_index(labels)
        answered_any = bool((codes >= 0).any())
        self.estimator_ = HigherOrderDINA(
            prior=self.prior,
            max_iter=self.max_iter if answered_any else 1,  # nothing to learn from
            random_state=self.random_state,
        ).fit(
            np.where(codes >= 0, codes, np.nan),
            self.q_matrix_,
            n_categories=self.n_categories_,
            groups=groups,
        )
        self.fusion_ = self.fusion or FusionConfig()
        if self.learn_grades and len(province.grades) >= _MIN_GRADES_TO_LEARN:
            self.fusion_ = self._learn_grades(province, codes, groups)
        self.school_ids_ = np.array(sorted(set(teachers["school_id"].astype(str))), dtype=str)
        structure = self.structure
        if structure == "auto":
            structure = "fusion" if answered_any else "factor"
        if structure not in ("fusion", "learned", "factor"):
            raise NengliError(
                f"structure={self.structure!r}; choose 'auto', 'fusion', 'learned' or 'factor'"
            )
        self.structure_ = structure
        if structure == "fusion":
            return self
        teacher_ids = teachers["teacher_id"].astype(str).to_numpy()
        if structure == "factor":
            return self._fit_factor(province, codes, teacher_ids)
        evidence, log_odds = self._evidence(
            codes,
            {t: i for i, t in enumerate(teacher_ids)},
            province.grades,
            province.events,
            self._moment(province),
        )
        self.evidence_kinds_ = sorted(evidence.observations)
        self.mastery_model_ = LatentClassMastery(
            n_classes=self.n_classes,
            max_iter=60,
            max_fit_teachers=5_000,
            random_state=self.random_state,
        ).fit(
            evidence,
            prior_tables(evidence, self.fusion_, log_odds),
            groups,
            self._school_index(teachers["school_id"]),
        )
        return self

    @staticmethod
    def _moment(province: Any) -> pd.Timestamp:
        return latest_moment(province.grades["assessed_at"], province.events["timestamp"])

    def _school_index(self, school_ids: Any) -> NDArray[np.int64]:
        index = pd.Index(self.school_ids_).get_indexer(pd.Series(school_ids, dtype=str))
        return np.asarray(index, dtype=np.int64)  # -1 = unseen school: its peer group

    def _evidence(
        self,
        codes: NDArray[np.int8],
        teacher_index: dict[str, int],
        grades: pd.DataFrame,
        events: pd.DataFrame | None,
        moment: datetime | pd.Timestamp,
    ) -> tuple[Any, NDArray[np.float64] | None]:
        """Evidence of every kind the inputs hold (see :mod:`province_evidence`)."""
        answered = (codes >= 0).astype(np.int64) @ self.q_matrix_.astype(np.int64)
        log_odds = self.estimator_.direct_log_odds_codes(codes) if (codes >= 0).any() else None
        evidence = build_evidence(
            teacher_index,
            self.codes_,
            log_odds,
            answered,
            grades,
            events,
            self.point_weights_,
            moment,
            self.half_life_days,
        )
        known = getattr(self, "evidence_kinds_", None)
        if known is not None:  # scoring: only the kinds the model learned
            unknown = [k for k in evidence.observations if k not in known]
            for kind in unknown:
                evidence.observations.pop(kind)
                evidence.weights.pop(kind, None)
            if not evidence.observations:
                evidence.observations[known[0]] = np.full(answered.shape, -1, dtype=np.int8)
        return evidence, log_odds

    def _fit_factor(
        self, province: ProvinceTables, codes: NDArray[np.int8], teacher_ids: NDArray[Any]
    ) -> DiagnosisModel:
        """Fit :class:`FactorMastery` with its held-out-grade calibration (see factor_fit)."""
        index = {t: i for i, t in enumerate(teacher_ids)}
        events = province.events if len(province.events) else None
        evidence, log_odds = self._evidence(
            codes, index, province.grades, events, self._moment(province)
        )
        self.evidence_kinds_ = sorted(evidence.observations)
        attributes = teacher_attribute_table(province.teachers, province.schools)
        self.features_ = TeacherFeatures.learn(attributes, with_activity=events is not None)
        self.point_environment_ = point_environment_ranks(self.framework_, self.codes_)
        data = self._factor_data(
            evidence, attributes, province.teachers["school_id"], events, index
        )
        (
            self.factor_model_,
            self.calibration_,
            self.calibrated_,
            self.measured_calibration_,
        ) = fit_calibrated(
            data,
            prior_tables(evidence, self.fusion_, log_odds),
            len(self.school_ids_),
            n_factors=self.n_factors,
            random_state=self.random_state,
        )
        return self

    def _factor_data(
        self,
        evidence: Any,
        attributes: pd.DataFrame,
        school_ids: Any,
        events: pd.DataFrame | None,
        teacher_row: dict[str, int],
    ) -> FactorData:
        """The factor model's arrays: evidence, attribute design, school index."""
        done, enrolled = record_volume(events, teacher_row)
        attributes = attributes.reset_index(drop=True)
        design = self.features_.design(attributes, done, enrolled)
        gap = environment_gap(attributes, self.point_environment_)
        return factor_data(evidence, design, self._school_index(school_ids), gap)

    def _factor(
        self,
        codes: NDArray[np.int8],
        teacher_row: dict[str, int],
        grades: pd.DataFrame,
        events: pd.DataFrame | None,
        moment: datetime | pd.Timestamp,
        attributes: pd.DataFrame,
        school_ids: Any,
    ) -> dict[str, NDArray[Any]]:
        """The factor model's calibrated posterior with SD, counts, flag and prior."""
        evidence, _ = self._evidence(codes, teacher_row, grades, events, moment)
        data = self._factor_data(evidence, attributes, school_ids, events, teacher_row)
        scored = predict_calibrated(
            self.factor_model_, self.calibration_, data, measured=self.measured_calibration_
        )
        return {
            **self._posterior(scored["mastery_probability"], evidence.counts, codes.shape),
            "prior_probability": scored["prior_probability"],
        }

    def _learn_grades(
        self, province: ProvinceTables, codes: NDArray[np.int8], groups: NDArray[np.int64]
    ) -> FusionConfig:
        """Refine the grade likelihoods on this province's grades (see fusion module)."""
        teacher_ids = province.teachers["teacher_id"].astype(str).to_numpy()
        index = {t: i for i, t in enumerate(teacher_ids)}
        grades = province.grades[
            province.grades["teacher_id"].isin(index) & province.grades["point"].isin(self.codes_)
        ]
        if len(grades) < _MIN_GRADES_TO_LEARN:
            return self.fusion_
        questionnaire = self.estimator_.predict_proba_codes(codes, groups)
        completions = completions_of(province.events)
        moment = latest_moment(grades["assessed_at"], completions["timestamp"])
        no_grades = grades.iloc[:0]
        log_odds, counts = evidence_log_odds(
            index, self.codes_, no_grades, completions, self.point_weights_, self.fusion_, moment
        )
        learning = fuse(questionnaire, log_odds, counts, self.adjacency_, self.fusion_)
        rows = grades["teacher_id"].map(index).to_numpy(dtype=np.int64)
        cols = grades["point"].map({c: i for i, c in enumerate(self.codes_)}).to_numpy()
        prior = learning["mastery_probability"][rows, cols.astype(np.int64)]
        return estimate_grade_likelihood(prior, grades["grade"].to_numpy(dtype=str), self.fusion_)

    def bind(self, item_bank: ItemBank, framework: Framework) -> None:
        """Attach the item bank and framework and derive their arrays (fit and load both start
        here, so a loaded model has exactly the arrays a fitted one has)."""
        self.item_bank_ = item_bank
        self.framework_ = framework
        self.codes_ = list(framework.codes)
        self.item_ids_ = list(item_bank.item_ids)
        self.q_matrix_ = item_bank.q_matrix(self.codes_)
        self.n_categories_ = np.array(
            [2 if item.kind == "scenario" else int(item.scale_max or 0) for item in item_bank.items]
        )
        self.rating_offset_ = np.array([0 if i.kind == "scenario" else 1 for i in item_bank.items])
        self.adjacency_ = CompetencyGraph(framework).adjacency_matrix()
        self.point_weights_ = pd.DataFrame({c: [] for c in WEIGHT_COLUMNS})

    # ------------------------------------------------------------------ encoding
    def encode(self, responses: pd.DataFrame, teacher_ids: Sequence[str]) -> NDArray[np.int8]:
        """Long ``responses`` rows -> (teachers x items) category codes, -1 when unanswered.

        Rows of teachers not in ``teacher_ids`` are ignored; an unknown item or an impossible
        value raises :class:`NengliError` naming the row.
        """
        check_is_fitted(self, ("item_ids_",))
        teacher_index = pd.Index(pd.Series(teacher_ids, dtype=str))
        item_index = pd.Index(self.item_ids_)
        frame = responses[responses["teacher_id"].isin(teacher_index)]
        items = item_index.get_indexer(frame["item_id"].astype(str))
        if (items < 0).any():
            row = int(np.flatnonzero(items < 0)[0])
            raise NengliError(
                f"responses row {frame.index[row]}: item {frame['item_id'].iloc[row]!r} is not in "
                "the item bank; import responses against the bank the model was fitted with"
            )
        rows = teacher_index.get_indexer(frame["teacher_id"].astype(str))
        value = frame["response"].to_numpy(dtype=np.float64) - self.rating_offset_[items]
        valid = (value == np.round(value)) & (value >= 0) & (value < self.n_categories_[items])
        if not valid.all():
            row = int(np.flatnonzero(~valid)[0])
            item = self.item_bank_.get(self.item_ids_[items[row]])
            raise NengliError(
                f"responses row {frame.index[row]}: teacher {frame['teacher_id'].iloc[row]} "
                f"answered {float(frame['response'].iloc[row])!r} to {item.item_id}; valid answers are "
                f"{'0/1' if item.kind == 'scenario' else f'1..{item.scale_max}'}"
            )
        codes = np.full((len(teacher_index), len(item_index)), -1, dtype=np.int8)
        codes[rows, items] = value.astype(np.int8)
        return codes

    def peer_groups(self, province: ProvinceTables) -> NDArray[np.int64]:
        """Peer-group index of each teacher of ``province`` (-1 for a group unseen in fit)."""
        check_is_fitted(self, _FITTED)
        return self._group_index(group_labels(province.teachers, province.schools, self.peer_group))

    def _group_index(self, labels: Sequence[str]) -> NDArray[np.int64]:
        index = pd.Index(self.group_names_).get_indexer(pd.Series(labels, dtype=str))
        return np.asarray(index, dtype=np.int64)  # -1 = unseen group: province average

    # ------------------------------------------------------------------ diagnosis
    def questionnaire_proba(self, province: ProvinceTables) -> NDArray[np.float64]:
        """Questionnaire-only posterior (teachers x points), rows in ``province.teachers`` order."""
        check_is_fitted(self, _FITTED)
        codes = self.encode(province.responses, province.teachers["teacher_id"])
        return self.estimator_.predict_proba_codes(codes, self.peer_groups(province))

    def diagnose_arrays(
        self, province: ProvinceTables, as_of: datetime | None = None
    ) -> dict[str, NDArray[Any]]:
        """Vectorised diagnosis: arrays (teachers x points) plus ``teacher_id``.

        Besides the output columns: ``questionnaire_probability`` (the questionnaire model
        alone) and ``prior_probability`` (peer group and school only, no own evidence).
        """
        check_is_fitted(self, _FITTED)
        teacher_ids = province.teachers["teacher_id"].astype(str).to_numpy()
        codes = self.encode(province.responses, teacher_ids)
        groups = self.peer_groups(province)
        questionnaire = self.estimator_.predict_proba_codes(codes, groups)
        if hasattr(self, "factor_model_"):
            result = self._factor(
                codes,
                {t: i for i, t in enumerate(teacher_ids)},
                province.grades,
                province.events if len(province.events) else None,
                as_of or self._moment(province),
                teacher_attribute_table(province.teachers, province.schools),
                province.teachers["school_id"],
            )
            result["teacher_id"] = teacher_ids
            result["questionnaire_probability"] = questionnaire
            return result
        if not hasattr(self, "mastery_model_"):
            completions = completions_of(province.events)
            moment = as_of or latest_moment(
                province.grades["assessed_at"], completions["timestamp"]
            )
            result = self._fuse_evidence(
                questionnaire,
                codes,
                {t: i for i, t in enumerate(teacher_ids)},
                province.grades,
                completions,
                moment,
            )
            result["teacher_id"] = teacher_ids
            result["questionnaire_probability"] = questionnaire
            return result
        schools = self._school_index(province.teachers["school_id"])
        result = self._learned(
            codes,
            {t: i for i, t in enumerate(teacher_ids)},
            province.grades,
            province.events,
            as_of or self._moment(province),
            groups,
            schools,
        )
        result["teacher_id"] = teacher_ids
        result["questionnaire_probability"] = questionnaire
        result["prior_probability"] = self.mastery_model_.prior_proba(groups, schools)
        return result

    def diagnose(self, province: ProvinceTables, as_of: datetime | None = None) -> pd.DataFrame:
        """Per teacher x point: mastery_probability, sd, evidence_count, insufficient_evidence."""
        return self._long(self.diagnose_arrays(province, as_of))

    def diagnose_teacher(
        self,
        responses: Mapping[str, float],
        grades: Sequence[Mapping[str, Any]] = (),
        completed: Sequence[str | Mapping[str, Any]] = (),
        *,
        teacher_id: str = "",
        school_environment: str | None = None,
        stage: str | None = None,
        research_group: str | None = None,
        school_id: str | None = None,
        subject: str | None = None,
        years_of_service: float | None = None,
        as_of: datetime | None = None,
    ) -> pd.DataFrame:
        """Diagnose one teacher from a dict of answers, a list of grades and completed items.

        Parameters
        ----------
        responses
            item_id -> answer (0/1 for scenario items, 1..scale_max for self-ratings).
        grades
            Dicts with ``point``, ``grade`` and optionally ``assessed_at`` (default: ``as_of``).
        completed
            Catalog item ids, or dicts with ``item_id`` and optionally ``timestamp``.
        school_environment, stage, research_group, school_id
            Select the peer group and school whose prior the teacher starts from (province
            average if unknown); with ``subject`` and ``years_of_service`` they are also the
            factor model's attributes. Completed items are the teacher's whole record: without any,
            her activity is unknown rather than "nothing".
        """
        check_is_fitted(self, _FITTED)
        moment = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now().floor("s")
        tid = teacher_id or "teacher"
        frame = pd.DataFrame(
            {"teacher_id": tid, "item_id": list(responses), "response": list(responses.values())}
        )
        grade_frame = pd.DataFrame(
            [
                {
                    "teacher_id": tid,
                    "point": g["point"],
                    "grade": g["grade"],
                    "assessed_at": pd.Timestamp(g.get("assessed_at") or moment),
                }
                for g in grades
            ],
            columns=["teacher_id", "point", "grade", "assessed_at"],
        )
        done = [c if isinstance(c, Mapping) else {"item_id": c} for c in completed]
        completion_frame = pd.DataFrame(
            [
                {
                    "teacher_id": tid,
                    "item_id": c["item_id"],
                    "timestamp": pd.Timestamp(c.get("timestamp") or moment),
                }
                for c in done
            ],
            columns=["teacher_id", "item_id", "timestamp"],
        )
        codes = self.encode(frame, [tid])
        extra = {
            "environment": (),
            "environment_stage": (stage,),
            "environment_research_group": (research_group,),
        }[self.peer_group]
        label = "|".join(str(v) for v in (school_environment, *extra))
        events = completion_frame.assign(event="complete") if len(completion_frame) else None
        if hasattr(self, "factor_model_"):
            attributes = pd.DataFrame(
                {
                    "environment": [school_environment],
                    "stage": [stage],
                    "subject": [subject],
                    "years_of_service": [years_of_service],
                }
            )
            result = self._factor(
                codes, {tid: 0}, grade_frame, events, moment, attributes, [school_id or ""]
            )
            result["teacher_id"] = np.array([teacher_id])
            return self._long(result)
        if not hasattr(self, "mastery_model_"):
            prior = self.estimator_.predict_proba_codes(codes, self._group_index([label]))
            result = self._fuse_evidence(
                prior, codes, {tid: 0}, grade_frame, completion_frame, moment
            )
            result["teacher_id"] = np.array([teacher_id])
            return self._long(result)
        result = self._learned(
            codes,
            {tid: 0},
            grade_frame,
            events,
            moment,
            self._group_index([label]),
            self._school_index([school_id or ""]),
        )
        result["teacher_id"] = np.array([teacher_id])
        return self._long(result)

    def next_item(self, responses: Mapping[str, float]) -> str | None:
        """The adaptive questionnaire's next item for these answers, or None to stop."""
        check_is_fitted(self, _FITTED)
        frame = pd.DataFrame(
            {"teacher_id": "t", "item_id": list(responses), "response": list(responses.values())}
        )
        codes = self.encode(frame, ["t"])[0]
        session = AdaptiveQuestionnaire(
            self.estimator_, sd_threshold=self.sd_threshold, max_items=self.max_items
        )
        index = session.next_item(codes)
        return None if index is None else self.item_ids_[index]

    def fusion_settings(self) -> FusionConfig:
        """The evidence-fusion settings in force: learned, else given, else the defaults."""
        return getattr(self, "fusion_", None) or self.fusion or FusionConfig()

    def _fuse_evidence(
        self,
        prior: NDArray[np.float64],
        codes: NDArray[np.int8],
        teacher_row: dict[str, int],
        grades: pd.DataFrame,
        completions: pd.DataFrame,
        moment: datetime | pd.Timestamp,
    ) -> dict[str, NDArray[Any]]:
        """Fuse the questionnaire prior with grades and completions (one path for batch and one
        teacher, so both count answered questionnaire items as evidence the same way)."""
        fusion = self.fusion_settings()
        log_odds, counts = evidence_log_odds(
            teacher_row,
            self.codes_,
            grades,
            completions,
            self.point_weights_,
            fusion,
            moment,
        )
        counts = counts + (codes >= 0).astype(np.int64) @ self.q_matrix_.astype(np.int64)
        return fuse(prior, log_odds, counts, self.adjacency_, fusion)

    def _learned(
        self,
        codes: NDArray[np.int8],
        teacher_row: dict[str, int],
        grades: pd.DataFrame,
        events: pd.DataFrame | None,
        moment: datetime | pd.Timestamp,
        groups: NDArray[np.int64],
        schools: NDArray[np.int64],
    ) -> dict[str, NDArray[Any]]:
        """The learned model's posterior with SD, counts and the flag (one path for batch and one
        teacher, so both count answered questionnaire items as evidence the same way)."""
        evidence, _ = self._evidence(codes, teacher_row, grades, events, moment)
        probability = self.mastery_model_.predict_proba(evidence, groups, schools)
        return self._posterior(probability, evidence.counts, codes.shape)

    def _posterior(
        self, probability: NDArray[Any], counts: NDArray[Any] | None, shape: tuple[int, ...]
    ) -> dict[str, NDArray[Any]]:
        """A learned model's mastery probability with its Bernoulli SD, the evidence count and
        the insufficient-evidence flag (the same rule for the latent-class and factor models)."""
        probability = np.clip(probability, 1e-9, 1 - 1e-9)
        counts = counts if counts is not None else np.zeros(shape)
        fusion = self.fusion_settings()
        sd = np.sqrt(probability * (1.0 - probability))
        insufficient = (counts < max(fusion.min_evidence, 1)) | (sd > fusion.sd_threshold)
        return {
            "mastery_probability": probability,
            "sd": sd,
            "evidence_count": np.asarray(counts, dtype=np.int64),
            "insufficient_evidence": insufficient,
        }

    def _long(self, result: Mapping[str, NDArray[Any]]) -> pd.DataFrame:
        n, k = result["mastery_probability"].shape
        return pd.DataFrame(
            {
                "teacher_id": np.repeat(result["teacher_id"], k),
                "point": np.tile(np.array(self.codes_), n),
                "mastery_probability": result["mastery_probability"].ravel(),
                "sd": result["sd"].ravel(),
                "evidence_count": result["evidence_count"].ravel(),
                "insufficient_evidence": result["insufficient_evidence"].ravel(),
            }
        )

    # ------------------------------------------------------------------ persistence
    def get_arrays(self) -> dict[str, NDArray[Any]]:
        """All learned state as numeric or fixed-width string arrays (safe for allow_pickle=False)."""
        check_is_fitted(self, _FITTED)
        return model_arrays(self)

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, NDArray[Any]], item_bank: ItemBank, framework: Framework
    ) -> DiagnosisModel:
        """Rebuild a fitted model from :meth:`get_arrays` output, checking bank and framework."""
        return restore_model(cls, arrays, item_bank, framework)
