"""Charts as PNG (matplotlib, drawn off-screen): the score distributions of a calibration, and the cohort's learning
curves, pass rates and common findings."""

from __future__ import annotations

import datetime as _dt
import io

PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"]
"""Okabe-Ito: told apart with any colour vision; lines also differ by marker."""
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
DPI = 130


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "legend.frameon": False})
    return plt


def _png(fig, image: bool = False):
    """The figure as PNG bytes, or as a PIL image (`image`: what a PDF embeds, without encoding a PNG to decode it
    again)."""
    import matplotlib.pyplot as plt

    if image:
        from PIL import Image

        fig.set_dpi(DPI)
        fig.canvas.draw()
        picture = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba()).convert("RGB")
        plt.close(fig)
        return picture
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def calibration_png(results) -> bytes:
    """For each exercise: the competent and the novice score distributions, the pass mark in force and the one
    proposed where the two groups meet. One panel per exercise, three to a row."""
    plt = _pyplot()
    import numpy as np

    results = [r for r in results if r.simulated]  # a patient sent home has nothing to plot
    n = len(results)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    bins = np.linspace(0, 100, 41)
    for ax, r in zip(axes.flat, results):
        ax.hist(r.novice.scores, bins=bins, color="#d55e00", alpha=0.6, label=f"novice ({100 * r.novice.pass_rate:.0f} % pass)")
        ax.hist(r.competent.scores, bins=bins, color="#0072b2", alpha=0.6,
                label=f"competent ({100 * r.competent.pass_rate:.0f} % pass)")
        ax.axvline(r.pass_mark, color="#222222", linewidth=1.5, label=f"pass mark {r.pass_mark:g}")
        if abs(r.proposed_pass_mark - r.pass_mark) > 0.05:
            ax.axvline(r.proposed_pass_mark, color="#222222", linestyle="--", linewidth=1,
                       label=f"proposed {r.proposed_pass_mark:g}")
        ax.set_title(f"{r.scenario} (AUC {r.auc:.2f})", fontsize=9)
        ax.set_xlim(0, 100)
        ax.set_xlabel("score", fontsize=8)
        ax.set_ylabel("attempts", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6.5, loc="upper left", frameon=False)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _when(stamp: str) -> _dt.datetime:
    t = _dt.datetime.fromisoformat(stamp)
    return t if t.tzinfo else t.astimezone()


def styles(exercises: list[str]) -> dict[str, tuple[str, str]]:
    """A colour and a marker for each exercise, the same on every page of a report (8 colours x 8 markers)."""
    return {x: (PALETTE[k % len(PALETTE)], MARKERS[(k // len(PALETTE) + k) % len(MARKERS)])
            for k, x in enumerate(exercises)}


def learning_curves_png(panels: list[tuple[str, dict[str, list[dict]]]], style: dict[str, tuple[str, str]],
                        size_mm: tuple[float, float], image: bool = False):
    """One panel per trainee (stacked): each exercise's scores over the real dates of the attempts, a line and a
    marker per exercise in its `style` (filled: passed, open: not passed), its pass mark as a dashed line of the
    same colour; under them one legend of the exercises shown. `panels` is [(trainee, {exercise: [{"date",
    "score", "pass_mark", "passed"}, ...]})]."""
    plt = _pyplot()
    import matplotlib.dates as mdates
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    shown = list(dict.fromkeys(x for _t, series in panels for x in series))
    legend_rows = (len(shown) + 3 + 1) // 2
    legend_mm = 6 + 3.6 * legend_rows
    fig, axes = plt.subplots(len(panels), 1, figsize=(size_mm[0] / 25.4, size_mm[1] / 25.4), squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.985, top=1 - 6 / size_mm[1], bottom=(legend_mm + 6) / size_mm[1],
                        hspace=0.42)
    for ax, (trainee, series) in zip(axes[:, 0], panels):
        # a few artists a panel, whatever the number of exercises: one collection of lines, one of pass marks, one
        # scatter per marker shape
        lines, line_colours, marks, mark_colours = [], [], [], []
        by_marker: dict[str, tuple[list, list, list, list]] = {}
        for exercise, points in series.items():
            colour, marker = style[exercise]
            x = mdates.date2num([_when(p["date"]) for p in points])
            y = [p["score"] for p in points]
            lines.append(list(zip(x, y)))
            line_colours.append(colour)
            for m in sorted({p["pass_mark"] for p in points if p.get("pass_mark") is not None}):
                marks.append(m)
                mark_colours.append(colour)
            xs, ys, faces, edges = by_marker.setdefault(marker, ([], [], [], []))
            xs.extend(x)
            ys.extend(y)
            faces.extend(colour if p["passed"] else "white" for p in points)
            edges.extend(colour for _p in points)
        ax.add_collection(LineCollection(lines, colors=line_colours, linewidths=1.1))
        if marks:
            ax.hlines(marks, 0, 1, transform=ax.get_yaxis_transform(), colors=mark_colours,
                      linestyles=[(0, (4, 3))], linewidths=0.8, alpha=0.85)
        for marker, (xs, ys, faces, edges) in by_marker.items():
            ax.scatter(xs, ys, marker=marker, s=16, zorder=3, facecolors=faces, edgecolors=edges, linewidths=0.9)
        ax.xaxis_date()
        ax.autoscale_view()
        ax.set_ylim(0, 102)
        ax.set_ylabel("score")
        ax.set_title(trainee, loc="left", fontweight="bold")
        locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    handles = [Line2D([], [], color=style[x][0], marker=style[x][1], markersize=4, linewidth=1.1, label=x)
               for x in shown]
    handles += [Line2D([], [], color="#555555", linestyle=(0, (4, 3)), linewidth=0.8, label="pass mark"),
                Line2D([], [], color="#555555", marker="o", linestyle="", markersize=4, label="passed"),
                Line2D([], [], color="#555555", marker="o", markerfacecolor="white", linestyle="", markersize=4,
                       label="not passed")]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.06, 0.005), ncols=2, fontsize=6.5,
               handlelength=1.8, columnspacing=1.2, labelspacing=0.3)
    return _png(fig, image)


def bars_height_mm(rows: int) -> float:
    """The height a bars chart of `rows` needs [mm]: its title and axis, and 5.2 mm a bar."""
    return 26.0 + 5.2 * rows


def bars_png(rows: list[tuple[str, float, str]], title: str, xlabel: str, size_mm: tuple[float, float],
             colour: str = "#0072b2", image: bool = False):
    """Horizontal bars, one per row (label, share 0-1, the text at the bar's end), the first at the top."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(size_mm[0] / 25.4, size_mm[1] / 25.4), layout="constrained")
    labels = [r[0] for r in rows][::-1]
    values = [100 * r[1] for r in rows][::-1]
    ax.barh(range(len(rows)), values, color=colour, height=0.65)
    for y, (v, r) in enumerate(zip(values, rows[::-1])):
        ax.text(min(v, 100) + 1, y, r[2], va="center", fontsize=7)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontweight="bold")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    return _png(fig, image)
