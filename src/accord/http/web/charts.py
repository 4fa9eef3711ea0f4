"""Small charts drawn as inline SVG on the server: no script, no canvas, readable by screen readers through the
table that accompanies each chart, and identical in every language (only the labels change)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["KIND_COLOURS", "member_colour", "stacked_bars"]

KIND_COLOURS = {"report": "#2f6db5", "observation": "#d9822b", "entity": "#2e9e6b", "relationship": "#8a5cc2",
                "note": "#7a8590"}
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
            "#7f7f7f")


def member_colour(code: str, codes: Sequence[str]) -> str:
    ordered = sorted(codes)
    return _PALETTE[ordered.index(code) % len(_PALETTE)] if code in ordered else _PALETTE[-1]


def stacked_bars(rows: list[dict[str, Any]], kind_labels: dict[str, str], title: str) -> str:
    """One horizontal bar per originating member, split by kind. ``rows`` are Items.stats rows
    (kind, originator, count). Drawn left to right in every language, as charts with numbers usually are in
    Arabic and Persian publications too; the surrounding page still flows right to left."""
    members = sorted({r["originator"] for r in rows})
    kinds = [k for k in KIND_COLOURS if any(r["kind"] == k for r in rows)]
    totals = {m: sum(r["count"] for r in rows if r["originator"] == m) for m in members}
    top = max(totals.values(), default=0) or 1
    bar_h, gap, label_w, width = 24, 8, 80, 440
    plot_w = width - label_w - 50
    bars_h = 10 + max(1, len(members)) * (bar_h + gap)
    legend: list[tuple[int, int, str, str]] = []  # x, row, kind, label; wraps rather than run off the drawing
    lx, row = 8, 0
    for k in kinds:
        label = kind_labels.get(k, k)
        step = 30 + 7 * len(label)
        if lx + step > width and lx > 8:
            lx, row = 8, row + 1
        legend.append((lx, row, k, label))
        lx += step
    height = bars_h + 22 * (row + 1) + 8
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'direction="ltr" xmlns="http://www.w3.org/2000/svg">']
    for i, m in enumerate(members):
        y = 10 + i * (bar_h + gap)
        x = float(label_w)
        out.append(f'<text x="8" y="{y + bar_h * 0.7:.1f}">{escape(m)}</text>')
        for k in kinds:
            n = next((r["count"] for r in rows if r["originator"] == m and r["kind"] == k), 0)
            if not n:
                continue
            w = max(2.0, plot_w * n / top)
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{KIND_COLOURS[k]}">'
                       f'<title>{escape(m)} · {escape(kind_labels.get(k, k))}: {n}</title></rect>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + bar_h * 0.7:.1f}" class="n">{totals[m]}</text>')
    for lx, row, k, label in legend:
        ly = bars_h + 16 + 22 * row
        out.append(f'<rect x="{lx}" y="{ly - 11}" width="12" height="12" fill="{KIND_COLOURS[k]}"/>'
                   f'<text x="{lx + 17}" y="{ly}" class="legend">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
