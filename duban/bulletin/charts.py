"""Charts for the bulletin (matplotlib, CJK labels): completion by township, and the monthly trend."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

# Only fonts that are installed: naming a missing one makes matplotlib warn on every command's console.
_INSTALLED = {font.name for font in font_manager.fontManager.ttflist}
# WenQuanYi Zen Hei has one weight (500); matplotlib uses it for "normal" text and says so each time.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
plt.rcParams["font.sans-serif"] = [f for f in ("Noto Sans CJK SC", "WenQuanYi Zen Hei") if f in _INSTALLED] + [
    "DejaVu Sans"
]
plt.rcParams["axes.unicode_minus"] = False


def completion_by_township(townships: list[dict], path: Path) -> Path:
    names = [t["unit"] for t in townships]
    rates = [t["rate"] or 0 for t in townships]
    figure, axes = plt.subplots(figsize=(8, 3.6), dpi=150)
    bars = axes.bar(names, rates, color="#c0392b")
    axes.bar_label(
        bars,
        labels=[f"{r:.0f}%" if t["rate"] is not None else "—" for r, t in zip(rates, townships, strict=True)],
        fontsize=8,
    )
    axes.set_ylim(0, 110)
    axes.set_ylabel("整治完成率（%）")
    axes.tick_params(axis="x", labelrotation=45, labelsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def monthly_trend(points: list[tuple[str, float | None]], path: Path) -> Path:
    labels = [p for p, _ in points]
    values = [v or 0 for _, v in points]
    figure, axes = plt.subplots(figsize=(8, 3.2), dpi=150)
    axes.plot(labels, values, marker="o", color="#c0392b")
    for label, value in zip(labels, values, strict=True):
        axes.annotate(
            f"{value:.1f}%", (label, value), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8
        )
    axes.set_ylim(0, 110)
    axes.set_ylabel("全区整治完成率（%）")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
