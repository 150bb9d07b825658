"""A run's sequence diagram drawn as inline SVG: one column per participant, one row per
message or note."""

from __future__ import annotations

from html import escape

from sandbox.trace import layout
from sandbox.trace.diagram import Diagram, Message, Note

ROW, LINE = 30, 14
NAME_LINE, LABEL_LIMIT, NOTE_LIMIT = 26, 64, 120


def name_lines(name: str, width: int = NAME_LINE) -> list[str]:
    """A participant's name on one line, or two broken at a space (the rest shortened)."""
    if len(name) <= width or " " not in name:
        return [_fit(name, 2 * width)]
    cut = name.rfind(" ", 0, width + 1)
    cut = cut if cut > 0 else name.find(" ")
    return [name[:cut], _fit(name[cut + 1 :], width + 4)]


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(x: float, y: float, text: str, limit: int, **attributes: str) -> str:
    """A label, shortened to `limit` characters; the whole text is its tooltip."""
    extra = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{value}"' for name, value in attributes.items()
    )
    shown = _fit(text, limit)
    title = f"<title>{escape(text)}</title>" if shown != text else ""
    return f'<text x="{x:.0f}" y="{y:.0f}"{extra}>{title}{escape(shown)}</text>'


def _columns(diagram: Diagram) -> layout.Columns:
    index = {name: i for i, name in enumerate(diagram.participants)}
    spans, notes = [], []
    for item in diagram.items:
        if isinstance(item, Message):
            ends = sorted((index[item.source], index[item.target]))
            spans.append(layout.Span(ends[0], ends[1], _fit(item.label, LABEL_LIMIT)))
        elif diagram.participants:
            over = [index[n] for n in item.over] or [0, len(index) - 1]
            notes.append(layout.Span(min(over), max(over), _fit(item.text, NOTE_LIMIT)))
    widest = [max(name_lines(name), key=len) for name in diagram.participants]
    return layout.columns(widest, spans, notes)


def to_svg(diagram: Diagram) -> str:
    """A self-drawn sequence diagram: no script, no network, readable in any browser.

    Lifelines are spaced so that every box and label fits inside the drawing; its natural width
    is in `--w` for the report's zoom levels."""
    columns = _columns(diagram)
    index = {name: i for i, name in enumerate(diagram.participants)}
    x = dict(zip(diagram.participants, columns.x, strict=False))
    lines = max((len(name_lines(name)) for name in diagram.participants), default=1)
    box_height = 16 + LINE * lines
    top = 8 + box_height + 18
    width = round(columns.width)
    bottom = top + ROW * len(diagram.items) + ROW // 2
    height = bottom + box_height + 12
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="--w:{width}px" '
        'font-family="sans-serif" font-size="12" role="img" aria-label="Sequence diagram">',
        "<defs><marker id='arrow' markerWidth='10' markerHeight='8' refX='9' refY='4' "
        "orient='auto'><path d='M0,0 L10,4 L0,8 z' fill='#333'/></marker></defs>",
    ]
    for name, cx in x.items():
        out.append(
            f'<line x1="{cx:.0f}" y1="{8 + box_height}" x2="{cx:.0f}" y2="{bottom}" '
            'stroke="#bbb" stroke-dasharray="4,3"/>'
        )
        for y in (8, bottom):
            out.append(_participant(name, cx, y, columns.box[index[name]], box_height))
    for row, item in enumerate(diagram.items):
        y = top + ROW * row + ROW // 2
        if isinstance(item, Note):
            out.append(_note(item, columns, index, y))
            continue
        x1, x2 = x[item.source], x[item.target]
        colour = "#b3261e" if item.failed else "#333"
        dash = ' stroke-dasharray="5,3"' if item.reply else ""
        if x1 == x2:  # to itself: a loop on the right
            out.append(
                f'<path d="M{x1:.0f},{y - 6} h24 v12 h-22" fill="none" stroke="{colour}"{dash} '
                f'marker-end="url(#arrow)"/>'
                + _text(x1 + 30, y + 4, item.label, LABEL_LIMIT, fill=colour, class_="label")
            )
            continue
        out.append(
            f'<line x1="{x1:.0f}" y1="{y + 4}" x2="{x2:.0f}" y2="{y + 4}" stroke="{colour}"{dash} '
            f'marker-end="url(#arrow)"/>'
            + _text(
                (x1 + x2) / 2,
                y,
                item.label,
                LABEL_LIMIT,
                text_anchor="middle",
                fill=colour,
                class_="label",
            )
        )
    out.append("</svg>")
    return "\n".join(out)


def _participant(name: str, cx: float, y: int, width: float, height: int) -> str:
    """A participant's box (drawn above and below the lifelines), its name on one or two lines."""
    lines = name_lines(name)
    first = y + height / 2 - LINE * (len(lines) - 1) / 2 + 4
    spans = "".join(
        f'<tspan x="{cx:.0f}" y="{first + LINE * i:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<g class="participant"><title>{escape(name)}</title>'
        f'<rect x="{cx - width / 2:.0f}" y="{y}" width="{width:.0f}" height="{height}" rx="4" '
        f'fill="#eef3fb" stroke="#4a6fa5"/><text text-anchor="middle">{spans}</text></g>'
    )


def _note(item: Note, columns: layout.Columns, index: dict[str, int], y: int) -> str:
    over = [index[n] for n in item.over] or [0, max(len(index) - 1, 0)]
    span = layout.Span(min(over), max(over), _fit(item.text, NOTE_LIMIT))
    left, right = layout.note_edges(columns.x, columns.box, span)
    return (
        f'<rect x="{left:.0f}" y="{y - 11}" width="{right - left:.0f}" height="20" '
        'fill="#fff8dc" stroke="#d4b106"/>'
        + _text((left + right) / 2, y + 3, item.text, NOTE_LIMIT, text_anchor="middle")
    )
