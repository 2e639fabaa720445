"""The audit as one self-contained HTML file: tables and inline SVG charts (exclusions by reason,
bytes per domain, decisions over time). No script, stylesheet or font is fetched: an auditor can
open it offline, and it prints."""

from __future__ import annotations

from html import escape
from typing import Any

BAR_HEIGHT = 22
CHART_WIDTH = 640
LABEL_WIDTH = 230


def bar_chart(chart_id: str, title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars, one per item, scaled to the largest."""
    top = max((value for _, value in items), default=0) or 1
    height = BAR_HEIGHT * max(len(items), 1) + 10
    bars = []
    for index, (label, value) in enumerate(items):
        y = 5 + index * BAR_HEIGHT
        width = (CHART_WIDTH - LABEL_WIDTH - 90) * value / top
        bars.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{value:g}">'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(label[:34])}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_HEIGHT - 6}"></rect>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 15}">{value:,g}{unit}</text></g>'
        )
    if not items:
        bars.append('<text x="10" y="20">nothing to show</text>')
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg id="{chart_id}" role="img" aria-label="{escape(title)}" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg></figure>'
    )


def timeline_chart(points: list[dict[str, Any]]) -> str:
    """Kept and excluded decisions per minute, as stacked columns (a capture withdrawn since is
    not counted as kept)."""
    width, height, pad = CHART_WIDTH, 220, 30
    top = max((p["kept"] + p["excluded"] for p in points), default=0) or 1
    step = min((width - 2 * pad) / max(len(points), 1), 40)
    columns = []
    for index, point in enumerate(points):
        x = pad + index * step
        kept_h = (height - 2 * pad) * point["kept"] / top
        excluded_h = (height - 2 * pad) * point["excluded"] / top
        columns.append(
            f'<g class="column" data-minute="{escape(point["minute"])}" data-kept="{point["kept"]}" '
            f'data-excluded="{point["excluded"]}"><title>{escape(point["minute"])}: {point["kept"]} kept, '
            f"{point['excluded']} excluded</title>"
            f'<rect class="kept" x="{x:.1f}" y="{height - pad - kept_h:.1f}" width="{max(step - 2, 1):.1f}" height="{kept_h:.1f}"></rect>'
            f'<rect class="excluded" x="{x:.1f}" y="{height - pad - kept_h - excluded_h:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{excluded_h:.1f}"></rect></g>'
        )
    first = escape(points[0]["minute"]) if points else ""
    last = escape(points[-1]["minute"]) if points else ""
    return (
        "<figure><figcaption>Decisions over time (per minute; green kept, red excluded)</figcaption>"
        f'<svg id="chart-timeline" role="img" aria-label="Decisions over time" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(columns)}'
        f'<text x="{pad}" y="{height - 8}">{first}</text>'
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{last}</text></svg></figure>'
    )


def table(table_id: str, headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
th{background:#f4f4f4}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}
svg text{font:12px system-ui,sans-serif;fill:#333}.bar rect{fill:#3b6fb6}
#chart-reasons .bar rect{fill:#c0392b}.column .kept{fill:#2e8b57}.column .excluded{fill:#c0392b}
.summary{font-size:1.1em}
"""


def render(data: dict[str, Any]) -> str:
    decisions = data["decisions"]
    runs = data["runs"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>rightscrawl audit</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>rightscrawl audit</h1>",
        f'<p class="summary" id="summary" data-kept="{decisions["kept"]}" data-excluded="{decisions["excluded"]}" '
        f'data-withdrawn="{decisions["withdrawn"]}">'
        f"<b>{decisions['kept']}</b> pages kept, <b>{decisions['excluded']}</b> excluded, "
        f"<b>{decisions['withdrawn']}</b> withdrawn since (not counted as kept), "
        f"<b>{data['warc_bytes']:,}</b> WARC bytes kept, {len(runs)} run(s).</p>",
        "<h2>Exclusions by reason</h2>",
        bar_chart(
            "chart-reasons", "URLs excluded, by reason", list(data["excluded_by_reason"].items())
        ),
        "<h2>Bytes per domain</h2>",
        bar_chart(
            "chart-domains",
            "WARC bytes kept, by domain",
            [(d["domain"], d["warc_bytes"]) for d in data["domains"][:25]],
            " B",
        ),  # fmt: skip
        "<h2>Decisions over time</h2>",
        timeline_chart(data["timeline"]),
        "<h2>Runs</h2>",
        table(
            "table-runs",
            [
                "run",
                "spider",
                "started",
                "finished",
                "reason",
                "profile",
                "kept",
                "excluded",
                "withdrawn since",
                "withdrawals made",
            ],
            [
                [
                    r["id"],
                    r["spider"],
                    r["started_at"],
                    r["finished_at"],
                    r["finish_reason"],
                    r["profile"],
                    r["kept"],
                    r["excluded"],
                    r["withdrawn"],
                    r["withdrawals"],
                ]
                for r in runs
            ],
        ),  # fmt: skip
        "<h2>Domains</h2>",
        table(
            "table-domains",
            ["domain", "kept", "excluded", "withdrawn", "WARC bytes"],
            [
                [d["domain"], d["kept"], d["excluded"], d["withdrawn"], d["warc_bytes"]]
                for d in data["domains"]
            ],
        ),  # fmt: skip
        "<h2>Signals</h2>",
        table(
            "table-signals",
            ["signal", "seen", "decided"],
            [[k, v, data["signals_deciding"].get(k, 0)] for k, v in data["signals_seen"].items()],
        ),  # fmt: skip
        "<h2>Profiles</h2>",
        table("table-profiles", ["profile", "sha256"], [list(p) for p in data["profiles"]]),
        "</body></html>",
    ]
    return "\n".join(parts)
