"""A self-contained HTML report of a hunt: the result table, a per-host timeline of the
staging groups (inline SVG, no scripts, no network), the detection's metadata and the
playbook's next steps.

Every value is HTML-escaped; the page loads nothing from outside itself.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

from stagehunt.packs import Detection, Pack
from stagehunt.result import ResultTable, Value

_WIDTH = 900
_ROW = 26
_LEFT = 230


#: Values of a multivalue cell shown before the rest are only counted.
_SHOWN_VALUES = 5


def _cell(value: Value, column: str = "") -> str:
    if value is None:
        return ""
    if column == "_time" and isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, list):
        shown = "<br>".join(html.escape(v) for v in value[:_SHOWN_VALUES])
        rest = len(value) - _SHOWN_VALUES
        return shown + (f"<br><em>… {rest} more</em>" if rest > 0 else "")
    return html.escape(str(value))


def _epoch(record: dict[str, Value], *names: str) -> float | None:
    for name in names:
        value = record.get(name)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return (
                    datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
                )
            except ValueError:
                try:
                    return float(value)
                except ValueError:
                    continue
    return None


def timeline_svg(result: ResultTable) -> str:
    """One lane per host; each result row is a bar from its first to its last event."""
    spans: list[tuple[str, float, float, str]] = []
    for record in result.records():
        start = _epoch(record, "FirstSeenEpoch", "FirstSeen", "_time")
        end = _epoch(record, "LastSeenEpoch", "LastSeen") or start
        if start is None or end is None:
            continue
        label = f"{record.get('Image') or ''} ({record.get('EventCount') or ''})"
        spans.append((str(record.get("host") or "?"), start, end, label))
    hosts = sorted({h for h, _, _, _ in spans})
    height = max(1, len(hosts)) * _ROW + 40
    parts = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" '
        f'height="{height}" role="img" aria-label="staging timeline per host">'
    ]
    if not spans:
        parts.append('<text x="10" y="24">no staging activity in the result</text></svg>')
        return "".join(parts)
    low = min(s for _, s, _, _ in spans)
    high = max(e for _, _, e, _ in spans)
    scale = (_WIDTH - _LEFT - 20) / max(high - low, 1.0)
    for i, host in enumerate(hosts):
        y = 10 + i * _ROW
        parts.append(f'<text x="4" y="{y + 16}" font-size="12">{html.escape(host)}</text>')
        parts.append(
            f'<line x1="{_LEFT}" y1="{y + 12}" x2="{_WIDTH - 10}" y2="{y + 12}" stroke="#ddd"/>'
        )
    for host, start, end, label in spans:
        y = 10 + hosts.index(host) * _ROW
        x = _LEFT + (start - low) * scale
        w = max(4.0, (end - start) * scale)
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="16" fill="#c0392b" '
            f'opacity="0.75"><title>{html.escape(label)}</title></rect>'
        )
    axis_y = height - 14
    for stamp, anchor, x in ((low, "start", _LEFT), (high, "end", _WIDTH - 10)):
        text = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        parts.append(
            f'<text x="{x}" y="{axis_y}" font-size="11" text-anchor="{anchor}">{text}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _markdown(text: str) -> str:
    """Headings, bullets and paragraphs: enough for the playbook's own markdown."""
    out: list[str] = []
    in_list = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith(("- ", "* ")) or line[:3].rstrip(".").isdigit():
            if not in_list:
                out.append("<ul>")
                in_list = True
            item = (
                line.lstrip()[2:] if line.lstrip()[:2] in ("- ", "* ") else line.split(".", 1)[-1]
            )
            out.append(f"<li>{html.escape(item.strip())}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = min(6, len(line) - len(line.lstrip("#")) + 2)
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line:
            out.append(f"<p>{html.escape(line)}</p>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def render_report(result: ResultTable, detection: Detection, pack: Pack) -> str:
    meta = pack.meta
    attack = meta.get("attack", {})
    rating = meta.get("rating", {})
    playbook_path = pack.folder / "playbook.md"
    playbook = playbook_path.read_text(encoding="utf-8") if playbook_path.is_file() else ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_cell(v, c)}</td>" for c, v in zip(result.columns, row, strict=True))
        + "</tr>"
        for row in result.rows
    )
    fps = "".join(f"<li>{html.escape(fp)}</li>" for fp in meta.get("false_positives", []))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(detection.name)}: {html.escape(str(meta.get("title", "")))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }}
th {{ background: #f4f4f4; }}
.meta td {{ border: none; padding: 2px 10px 2px 0; }}
</style></head><body>
<h1>{html.escape(detection.name)}: {html.escape(str(meta.get("title", "")))}</h1>
<p>{html.escape(detection.description)}</p>
<table class="meta">
<tr><td>ATT&amp;CK</td><td>{html.escape(str(attack.get("tactic", "")))} /
{html.escape(str(attack.get("technique", "")))} {html.escape(str(attack.get("technique_name", "")))}
({html.escape(", ".join(attack.get("subtechniques", [])))})</td></tr>
<tr><td>Severity</td><td>{html.escape(str(rating.get("severity", "")))}</td></tr>
<tr><td>Confidence</td><td>{html.escape(str(rating.get("confidence", "")))}</td></tr>
<tr><td>Generated</td><td>{generated}</td></tr>
</table>
<h2>Timeline per host</h2>
{timeline_svg(result)}
<h2>Results ({len(result.rows)})</h2>
<table id="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Known false positives</h2><ul>{fps}</ul>
<h2>Next steps</h2>
<div id="playbook">{_markdown(playbook) if playbook else "<p>(no playbook in this pack)</p>"}</div>
</body></html>
"""


def write_report(path: Path, result: ResultTable, detection: Detection, pack: Pack) -> None:
    path.write_text(render_report(result, detection, pack), encoding="utf-8")
