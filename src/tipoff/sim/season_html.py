"""The ``tipoff simulate --html`` page: one self-contained file, charts as inline SVG.

Two charts share the night axis: coverage by 07:00 PT (bars, red when the SLA was missed, the
95 % line drawn) and stage 4 → 5 latency (log scale). Nights with faults carry an orange mark
under the axis, nights with a critical alert a red one; a table lists every night.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT, PAD = 960, 220, 40
SLA_PCT = 95


def season_page(result: dict, *, title: str, faults: str, seed: int) -> str:
    """The whole page for a ``run_season`` result."""
    nights, summary = result["nights"], result["summary"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; }}
.missed {{ background: #fde2e2; }} svg {{ display: block; margin: 1em 0; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>faults: <code>{escape(faults or "none")}</code>, seed {seed}</p>
{_summary(summary)}
<h2>Coverage by 07:00 PT</h2>
{_coverage_chart(nights)}
<h2>Stage 4 → 5 latency (seconds, log scale)</h2>
{_latency_chart(nights)}
<p>Marks under the axis: <span style="color:#e67e22">■</span> faults injected,
<span style="color:#c0392b">■</span> critical alert.</p>
<h2>Nights</h2>
{_night_table(nights)}
</body></html>
"""


def _summary(summary: dict) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
                    for k, v in summary.items())
    return f"<table>{cells}</table>"


def _x(n: int, count: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * (n + 0.5) / max(count, 1)


def _bar_width(count: int) -> float:
    return max(1.0, (WIDTH - 2 * PAD) / max(count, 1) - 1)


def _svg(body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 20}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT + 20}">{body}</svg>')


def _y(fraction: float) -> float:
    return HEIGHT - PAD + (2 * PAD - HEIGHT) * fraction


def _coverage_chart(nights: list[dict]) -> str:
    width, parts = _bar_width(len(nights)), []
    for n, night in enumerate(nights):
        if not night["sla_met"]:  # a pale band, so a night at 0 % is seen too
            parts.append(f'<rect x="{_x(n, len(nights)) - width / 2:.1f}" y="{_y(1):.1f}" '
                         f'width="{width:.1f}" height="{_y(0) - _y(1):.1f}" fill="#f5b7b1"/>')
        top = _y(min(night["coverage_pct"], 100) / 100)
        colour = "#27ae60" if night["sla_met"] else "#c0392b"
        parts.append(f'<rect x="{_x(n, len(nights)) - width / 2:.1f}" y="{top:.1f}" '
                     f'width="{width:.1f}" height="{_y(0) - top:.1f}" fill="{colour}">'
                     f'<title>{night["game_date"]}: {night["coverage_pct"]}%</title></rect>')
    sla = _y(SLA_PCT / 100)
    parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{sla:.1f}" y2="{sla:.1f}" '
                 f'stroke="#555" stroke-dasharray="4 3"/><text x="{WIDTH - PAD + 2}" '
                 f'y="{sla + 4:.1f}" font-size="11">95%</text>')
    return _svg("".join(parts) + _axis(nights) + _marks(nights))


def _latency_chart(nights: list[dict]) -> str:
    values = [n["latency_s"] for n in nights]
    top = math.log10(max([v for v in values if v] + [10.0]) + 1)
    parts = []
    for n, value in enumerate(values):
        if value is None:
            continue
        y = _y(math.log10(value + 1) / top)
        parts.append(f'<circle cx="{_x(n, len(nights)):.1f}" cy="{y:.1f}" r="2.5" '
                     f'fill="#2c3e50"><title>{nights[n]["game_date"]}: {value:.0f} s</title>'
                     f'</circle>')
    return _svg("".join(parts) + _axis(nights) + _marks(nights))


def _axis(nights: list[dict]) -> str:
    base = _y(0)
    labels = "".join(
        f'<text x="{_x(n, len(nights)):.1f}" y="{HEIGHT - 4}" font-size="10" '
        f'text-anchor="middle">{night["game_date"][5:]}</text>'
        for n, night in enumerate(nights) if n % max(1, len(nights) // 12) == 0)
    return (f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{base:.1f}" y2="{base:.1f}" '
            f'stroke="#333"/>{labels}')


def _marks(nights: list[dict]) -> str:
    width, parts = _bar_width(len(nights)), []
    for n, night in enumerate(nights):
        x = _x(n, len(nights)) - width / 2
        if night["faults"]:
            parts.append(f'<rect x="{x:.1f}" y="{_y(0) + 3:.1f}" width="{width:.1f}" '
                         f'height="5" fill="#e67e22"><title>{escape(", ".join(night["faults"]))}'
                         f'</title></rect>')
        if any(a["severity"] == "critical" for a in night["alerts"]):
            parts.append(f'<rect x="{x:.1f}" y="{_y(0) + 9:.1f}" width="{width:.1f}" '
                         f'height="5" fill="#c0392b"/>')
    return "".join(parts)


def _night_table(nights: list[dict]) -> str:
    head = ("<tr><th>game date</th><th>SLA</th><th>coverage %</th><th>predicted</th>"
            "<th>started by</th><th>latency s</th><th>faults</th><th>alerts</th>"
            "<th>duplicates</th></tr>")
    rows = []
    for night in nights:
        alerts = ", ".join(f'{a["type"]} ({a["severity"]}, {a["channel"]})'
                           for a in night["alerts"])
        rows.append(
            f'<tr class="{"" if night["sla_met"] else "missed"}"><td>{night["game_date"]}</td>'
            f'<td>{"met" if night["sla_met"] else "missed"}</td><td>{night["coverage_pct"]}</td>'
            f'<td>{night["predicted_by_0700"]}</td><td>{escape(night["started_by"])}</td>'
            f'<td>{"" if night["latency_s"] is None else round(night["latency_s"])}</td>'
            f'<td>{escape(", ".join(night["faults"]))}</td><td>{escape(alerts)}</td>'
            f'<td>{night["duplicates"]}</td></tr>')
    return f"<table>{head}{''.join(rows)}</table>"
