"""The simulator families by name, with the assumption each one changes (``docs/simulator.md``).

Kept apart from :mod:`training_data.simulator.config` (pydantic) and the engine (numpy, pandas)
because the CLI lists the names in its ``--help`` text, which must print without loading either.
"""

from __future__ import annotations

__all__ = ["FAMILIES"]

#: The simulator families and the assumption each one changes (``docs/simulator.md``).
FAMILIES: dict[str, str] = {
    "graph": "能力沿能力点图谱相关、按需求选课 / abilities co-vary along the competency graph, "
    "courses chosen by need",
    "latent": "少数潜在技能、无图谱结构 / a few latent skills, no graph structure or spill-over",
    "mandate": "学校指定课程与教研组主导 / school-mandated courses and colleagues drive choice",
    "quality": "未观测的课程质量与位置偏差 / unobserved course quality and list-position bias",
    "in_progress": "学期中导出、学习中状态 / exported mid-cycle, courses still in progress",
}
