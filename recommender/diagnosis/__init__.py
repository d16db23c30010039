"""Diagnosis of competency-point mastery: DINA, the 30-point model, evidence fusion, adaptive test.

>>> from recommender.diagnosis import DiagnosisModel          # doctest: +SKIP
>>> model = DiagnosisModel().fit(province, item_bank, framework, catalog)   # doctest: +SKIP
>>> model.diagnose(province).head()                            # doctest: +SKIP
"""

from recommender.diagnosis.adaptive import AdaptiveQuestionnaire, simulate_adaptive
from recommender.diagnosis.dina import DINA
from recommender.diagnosis.evaluation import mastery_metrics, sum_score_mastery
from recommender.diagnosis.fusion import FusionConfig
from recommender.diagnosis.higher_order import HigherOrderDINA
from recommender.diagnosis.model import OUTPUT_COLUMNS, DiagnosisModel
from recommender.diagnosis.qmatrix import QMatrixReport, analyse_q_matrix

__all__ = [
    "DINA",
    "OUTPUT_COLUMNS",
    "AdaptiveQuestionnaire",
    "DiagnosisModel",
    "FusionConfig",
    "HigherOrderDINA",
    "QMatrixReport",
    "analyse_q_matrix",
    "mastery_metrics",
    "simulate_adaptive",
    "sum_score_mastery",
]
