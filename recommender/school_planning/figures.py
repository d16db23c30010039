"""Figures of a portrait (PNG / SVG) that render on machines with or without a Chinese font.

Group, school and district labels are Chinese. When a CJK-capable font is installed (Noto
Sans CJK, WenQuanYi, SimHei, …) it is used; otherwise the labels become short ASCII codes
(``G01``, ``G02`` …) and the mapping is returned, so a figure never shows empty boxes and the
build never depends on a font package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from recommender.school_planning.portrait import Portrait  # noqa: E402

__all__ = ["cjk_font", "save_portrait_figures"]

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Source Han Sans SC",
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed CJK-capable font family, or ``None``."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FAMILIES if name in installed), None)


def _labels(
    names: Sequence[str], prefix: str, font: str | None
) -> tuple[list[str], dict[str, str]]:
    """Display labels; ASCII codes for non-ASCII names when no CJK font exists."""
    if font is not None or not any(_NON_ASCII.search(n) for n in names):
        return list(names), {}
    codes = [f"{prefix}{i + 1:02d}" for i in range(len(names))]
    return codes, dict(zip(codes, names, strict=True))


def save_portrait_figures(
    portrait: Portrait,
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    font: str | None = "auto",
) -> dict[str, object]:
    """Draw the heatmap, distribution and gap figures of a portrait.

    Parameters
    ----------
    portrait
        From :func:`~recommender.school_planning.portrait.build_portrait`.
    out_dir
        Directory for ``heatmap.<fmt>``, ``distribution.<fmt>``, ``gaps.<fmt>``.
    formats
        Any of ``png``, ``svg``, ``pdf``.
    font
        ``"auto"`` (detect), a font family name, or ``None`` to force ASCII labels.

    Returns
    -------
    dict
        ``{"files": [paths], "label_map": {code: original name}, "font": name or None}``.
    """
    family = cjk_font() if font == "auto" else font
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    fonts = plt.rc_context({"font.family": [family, "DejaVu Sans"]}) if family else nullcontext()
    with fonts:
        columns, label_map = _labels(list(portrait.heatmap.columns), "G", family)
        title = f"{portrait.scope} {portrait.key}"
        if family is None and _NON_ASCII.search(title):
            title = portrait.scope
        figures = []
        heat = portrait.heatmap
        fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(columns) + 3), 9))
        image = ax.imshow(heat.to_numpy(dtype=float), aspect="auto", cmap="RdYlGn", vmin=0, vmax=1)
        ax.set_yticks(range(len(heat.index)), labels=list(heat.index))
        ax.set_xticks(range(len(columns)), labels=columns, rotation=60, ha="right")
        ax.set_title(f"mean mastery: {title}")
        fig.colorbar(image, ax=ax, fraction=0.04)
        figures.append(("heatmap", fig))
        dist = portrait.distribution
        fig, ax = plt.subplots(figsize=(10, 4))
        x = range(len(dist.index))
        ax.fill_between(x, dist["p10"], dist["p90"], alpha=0.25, label="p10-p90")
        ax.fill_between(x, dist["p25"], dist["p75"], alpha=0.45, label="p25-p75")
        ax.plot(x, dist["median"], marker="o", label="median")
        ax.set_xticks(list(x), labels=list(dist.index), rotation=90)
        ax.set_ylim(0, 1)
        ax.set_ylabel("mastery")
        ax.legend(loc="lower left")
        figures.append(("distribution", fig))
        fig, ax = plt.subplots(figsize=(10, 4))
        width = 0.4
        positions = list(range(len(portrait.urban_rural.index)))
        ax.bar(
            [p - width / 2 for p in positions],
            portrait.urban_rural["gap"].fillna(0),
            width,
            label="urban - rural",
        )
        ax.bar(
            [p + width / 2 for p in positions],
            portrait.environment["gap"].fillna(0),
            width,
            label="smart - multimedia",
        )
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(positions, labels=list(portrait.urban_rural.index), rotation=90)
        ax.set_ylabel("mastery gap")
        ax.legend()
        figures.append(("gaps", fig))
        for name, figure in figures:
            figure.tight_layout()
            for fmt in formats:
                path = out / f"{name}.{fmt}"
                figure.savefig(path, format=fmt, dpi=110)
                files.append(str(path))
            plt.close(figure)
    return {"files": files, "label_map": label_map, "font": family}
