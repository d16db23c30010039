"""Fixed reference tables the simulator draws schools and teachers from.

The cities and districts are real names of Jiangsu's 13 prefecture-level cities and some of their
districts (区), county-level cities (市) and counties (县); the kind of unit drives how likely a
school there is urban. Shares of school types and subjects are rough figures chosen to look like
a Chinese province's K-12 workforce, not official statistics.
"""

from __future__ import annotations

from competency_model.catalog import GENERAL_SUBJECT, STAGES, SUBJECTS_BY_STAGE

__all__ = [
    "CITIES",
    "SCHOOL_TYPES",
    "SUBJECT_SHARES",
    "research_group_name",
    "urban_probability",
]

#: city → (development level 0..1, districts). Development shifts environment and urban share.
CITIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "南京": (1.0, ("玄武区", "秦淮区", "鼓楼区", "江宁区", "溧水区", "高淳区")),
    "苏州": (1.0, ("姑苏区", "吴中区", "昆山市", "常熟市", "张家港市")),
    "无锡": (0.9, ("梁溪区", "滨湖区", "江阴市", "宜兴市")),
    "常州": (0.8, ("天宁区", "钟楼区", "武进区", "溧阳市")),
    "南通": (0.7, ("崇川区", "海门区", "如皋市", "启东市", "如东县")),
    "镇江": (0.6, ("京口区", "润州区", "丹阳市", "句容市", "扬中市")),
    "扬州": (0.6, ("广陵区", "邗江区", "仪征市", "高邮市", "宝应县")),
    "泰州": (0.5, ("海陵区", "姜堰区", "兴化市", "靖江市", "泰兴市")),
    "徐州": (0.5, ("鼓楼区", "云龙区", "邳州市", "丰县", "沛县", "睢宁县")),
    "盐城": (0.4, ("亭湖区", "盐都区", "响水县", "滨海县", "阜宁县", "射阳县")),
    "淮安": (0.4, ("清江浦区", "淮安区", "涟水县", "盱眙县", "金湖县")),
    "连云港": (0.3, ("海州区", "连云区", "东海县", "灌云县", "灌南县")),
    "宿迁": (0.2, ("宿城区", "宿豫区", "沭阳县", "泗阳县", "泗洪县")),
}

#: school type → (share of schools, stages taught with their share of the staff).
SCHOOL_TYPES: dict[str, tuple[float, dict[str, float]]] = {
    "幼儿园": (0.14, {"幼儿园": 1.0}),
    "小学": (0.44, {"小学": 1.0}),
    "初级中学": (0.18, {"初中": 1.0}),
    "九年一贯制学校": (0.08, {"小学": 0.6, "初中": 0.4}),
    "高级中学": (0.10, {"高中": 1.0}),
    "中等职业学校": (0.06, {"中职": 1.0}),
}

_SUBJECT_WEIGHTS: dict[str, dict[str, float]] = {
    "小学": {
        "语文": 30,
        "数学": 25,
        "英语": 10,
        "科学": 7,
        "道德与法治": 5,
        "音乐": 6,
        "美术": 6,
        "体育": 8,
        "信息科技": 3,
    },
    "初中": {
        "语文": 15,
        "数学": 15,
        "英语": 15,
        "物理": 7,
        "化学": 6,
        "生物": 6,
        "历史": 7,
        "地理": 6,
        "道德与法治": 7,
        "信息科技": 4,
    },
    "高中": {
        "语文": 15,
        "数学": 15,
        "英语": 15,
        "物理": 9,
        "化学": 8,
        "生物": 7,
        "历史": 7,
        "地理": 7,
        "思想政治": 7,
        "信息技术": 4,
    },
    "中职": {"语文": 14, "数学": 14, "英语": 12, "计算机应用": 22, "机电技术": 22, "护理": 16},
    "幼儿园": {GENERAL_SUBJECT: 1},
}

#: stage → (subjects, shares summing to 1); subjects are the catalog's, so courses can match them.
SUBJECT_SHARES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {}
for _stage in STAGES:
    _weights = _SUBJECT_WEIGHTS[_stage]
    _subjects = tuple(s for s in SUBJECTS_BY_STAGE[_stage] if s in _weights)
    _total = sum(_weights[s] for s in _subjects)
    SUBJECT_SHARES[_stage] = (_subjects, tuple(_weights[s] / _total for s in _subjects))


def urban_probability(district: str, development: float) -> float:
    """Chance that a school in ``district`` is urban: districts (区) mostly, counties (县) rarely."""
    base = 0.75 if district.endswith("区") else 0.45 if district.endswith("市") else 0.2
    return min(0.95, base + 0.15 * (development - 0.5))


def research_group_name(stage: str, subject: str) -> str:
    """The 教研组 a teacher belongs to, e.g. ``小学数学组``; kindergartens have one 保教组."""
    if subject == GENERAL_SUBJECT:
        return f"{stage}保教组"
    return f"{stage}{subject}组"
