"""Charts as PNG (matplotlib, drawn off-screen): the score distributions of a calibration."""

from __future__ import annotations

import io


def calibration_png(results) -> bytes:
    """For each exercise: the competent and the novice score distributions, the pass mark in force and the one
    proposed where the two groups meet. One panel per exercise, three to a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
