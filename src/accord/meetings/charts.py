"""Charts for the reports, drawn with matplotlib's object API (no pyplot, no global state) to SVG.

The charts carry no words, only numbers: matplotlib does not shape Arabic script, so every label is set in the
HTML around the chart, where the browser or WeasyPrint shapes it with the shipped fonts. Text that remains
(tick numbers) is drawn in the shipped Noto Sans and converted to paths, so no font is needed to display it.

The density map draws country outlines from ``data/countries-50m.geojson`` (Natural Earth via the npm package
world-atlas; see ``data/topo2geo.py``) under a grid of observation counts.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from matplotlib import font_manager
from matplotlib.collections import PolyCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

__all__ = ["bars", "density_map", "weekly"]

HERE = Path(__file__).parent
FONT = HERE / "fonts" / "NotoSans-Regular.ttf"
INK = "#1f2a44"
ACCENT = "#1f4e79"
LIGHT = "#9dbbd8"
GRID = "#d9dee7"
LAND = "#eef0f3"
BORDER = "#9aa3b2"
DENSITY = LinearSegmentedColormap.from_list("accord", ["#fde9c9", "#f4a259", "#d1495b", "#6a1b3d"])


@functools.cache
def _font() -> list[str]:
    """Noto Sans, then Noto Naskh Arabic for the Persian digits Noto Sans lacks (matplotlib falls back per glyph)."""
    names = []
    for path in (FONT, HERE / "fonts" / "NotoNaskhArabic-Regular.ttf"):
        font_manager.fontManager.addfont(str(path))
        names.append(font_manager.FontProperties(fname=str(path)).get_name())
    return names


def _figure(width_mm: float, height_mm: float) -> Figure:
    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4))
    fig.patch.set_alpha(0)
    return fig


def _png(fig: Figure, dpi: int = 220) -> bytes:
    """Raster, for the map: thousands of outline vertices as SVG would make WeasyPrint slow by seconds."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"font.family": _font()}):
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.02, metadata={"Software": None})
    return buf.getvalue()


def _svg(fig: Figure) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "font.family": _font(), "svg.hashsalt": "accord"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.02, metadata={"Date": None})
    return buf.getvalue()


def _style(ax: Any, fmt: Callable[[float], str]) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(BORDER)
    ax.tick_params(colors=INK, labelsize=7, length=0)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(int(v)) if float(v).is_integer() else ""))
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def bars(current: Sequence[int], previous: Sequence[int], fmt: Callable[[float], str], *, rtl: bool = False) -> str:
    """Grouped bars: this period (dark) beside the previous one (light), one group per row of the table below."""
    with _rc():
        fig = _figure(160, 30)
        ax = fig.add_subplot()
        n = len(current)
        xs = list(range(n))[::-1] if rtl else list(range(n))
        w = 0.36
        ax.bar([x - w / 2 for x in xs], previous, w, color=LIGHT)
        ax.bar([x + w / 2 for x in xs], current, w, color=ACCENT)
        for x, v in zip(xs, current, strict=True):
            ax.annotate(fmt(v), (x + w / 2, v), ha="center", va="bottom", fontsize=7, color=INK,
                        xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(xs, [fmt(i + 1) for i in range(n)])
        _style(ax, fmt)
        if rtl:
            ax.yaxis.tick_right()
        return _svg(fig)


def weekly(rows: Sequence[dict[str, Any]], fmt: Callable[[float], str], label: Callable[[str], str], *,
           rtl: bool = False) -> str:
    """Stacked weekly bars: observations (dark) under information items (light)."""
    with _rc():
        fig = _figure(160, 42)
        ax = fig.add_subplot()
        xs = list(range(len(rows)))
        if rtl:
            xs = xs[::-1]
        obs = [r["observations"] for r in rows]
        info = [r["information"] for r in rows]
        ax.bar(xs, obs, 0.7, color=ACCENT)
        ax.bar(xs, info, 0.7, bottom=obs, color=LIGHT)
        step = max(1, math.ceil(len(rows) / 8))
        ax.set_xticks([x for i, x in enumerate(xs) if i % step == 0],
                      [label(r["from"]) for i, r in enumerate(rows) if i % step == 0])
        _style(ax, fmt)
        if rtl:
            ax.yaxis.tick_right()
        return _svg(fig)


@functools.cache
def _outlines() -> list[tuple[tuple[float, float, float, float], list[list[float]]]]:
    """Outer rings of the country polygons, each with its bounding box (loaded once, on first use)."""
    data = orjson.loads((HERE / "data" / "countries-50m.geojson").read_bytes())
    rings = []
    for f in data["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            ring = poly[0]
            xs = [p[0] for p in ring]
            ys = [p[1] for p in ring]
            rings.append(((min(xs), max(xs), min(ys), max(ys)), ring))
    return rings


def _extent(points: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    lo0, lo1, la0, la1 = min(lons), max(lons), min(lats), max(lats)
    span = max(lo1 - lo0, (la1 - la0) * 2.1, 8.0) * 1.25  # the frame is 2.1 times wider than high
    clon, clat = (lo0 + lo1) / 2, (la0 + la1) / 2
    half_lon, half_lat = span / 2, span / 4.2
    return (max(-180.0, clon - half_lon), min(180.0, clon + half_lon),
            max(-85.0, clat - half_lat), min(85.0, clat + half_lat))


def density_map(points: Sequence[tuple[float, float]], fmt: Callable[[float], str]) -> tuple[bytes, int]:
    """(PNG, cell size in hundredths of a degree): observation counts on a grid over the country outlines,
    framed on where the observations are."""
    with _rc():
        fig = _figure(160, 80)
        ax = fig.add_subplot()
        x0, x1, y0, y1 = _extent(points) if points else (-20.0, 60.0, 0.0, 50.0)
        ax.set_facecolor("#f7f9fc")
        rings = [r for (a, b, c, d), r in _outlines() if a <= x1 and b >= x0 and c <= y1 and d >= y0]
        ax.add_collection(PolyCollection(rings, facecolors=LAND, edgecolors=BORDER, linewidths=0.4))
        cell = max(0.1, round((x1 - x0) / 32, 1))
        if points:
            nx = max(1, math.ceil((x1 - x0) / cell))
            ny = max(1, math.ceil((y1 - y0) / cell))
            counts = ax.hist2d([p[0] for p in points], [p[1] for p in points], bins=[nx, ny],
                               range=[[x0, x0 + nx * cell], [y0, y0 + ny * cell]], cmin=1, cmap=DENSITY,
                               alpha=0.9)
            bar = fig.colorbar(counts[3], ax=ax, fraction=0.03, pad=0.02)
            bar.ax.tick_params(labelsize=7, colors=INK, length=0)
            bar.outline.set_visible(False)
            bar.locator = MaxNLocator(nbins=5, integer=True)
            bar.formatter = FuncFormatter(lambda v, _p: fmt(int(v)) if float(v).is_integer() else "")
            bar.update_ticks()
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(1 / max(0.2, math.cos(math.radians((y0 + y1) / 2))))
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_color(BORDER)
            s.set_linewidth(0.6)
        return _png(fig), int(cell * 100)


def _rc() -> Any:
    import matplotlib

    return matplotlib.rc_context({"font.family": _font(), "font.size": 7, "axes.unicode_minus": False})
