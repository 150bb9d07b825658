"""The sequence of a run as a small diagram model, drawn as Mermaid text and as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from sandbox.trace import layout
from services.kernel.topology import load_topology

MEDIATOR = "Mediator"
UNREACHABLE = frozenset({"NetworkError", "ServiceFailed"})


@dataclass
class Message:
    source: str
    target: str
    label: str
    reply: bool = False
    failed: bool = False


@dataclass
class Note:
    text: str
    over: tuple[str, ...] = ()


@dataclass
class Diagram:
    participants: list[str] = field(default_factory=list)
    items: list[Message | Note] = field(default_factory=list)

    def add(self, *names: str) -> None:
        for name in names:
            if name not in self.participants:
                self.participants.append(name)

    def message(self, source: str, target: str, label: str, **kwargs: bool) -> None:
        self.add(source, target)
        self.items.append(Message(source, target, label, **kwargs))


def short(subsystem: str | None) -> str:
    """`DPI/GOV/MOE/emis` -> `MOE/emis`; anything else unchanged."""
    if not subsystem:
        return "?"
    parts = subsystem.split("/")
    return "/".join(parts[2:4]) if len(parts) >= 4 else subsystem


def _status(status: Any, outcome: str | None = None) -> str:
    return f"{status} {outcome}" if outcome else str(status)


def _path(path: str, limit: int = 48) -> str:
    return path if len(path) <= limit else path[: limit - 1] + "…"


def _exchange(diagram: Diagram, exchange: dict[str, Any]) -> None:
    consumer, provider = short(exchange["consumer"]), short(exchange["provider"])
    if exchange["kind"] == "delivery" and not str(exchange["path"]).startswith("/r1/"):
        event = (exchange["service"] or "").rsplit("/", 1)[-1]
        diagram.message(MEDIATOR, provider, f"deliver {event}")
        diagram.message(provider, MEDIATOR, str(exchange["status"]), reply=True)
        return
    purpose = f" [{exchange['purpose']}]" if exchange.get("purpose") else ""
    diagram.message(consumer, MEDIATOR, f"{exchange['method']} {_service_path(exchange)}{purpose}")
    _subject_checks(diagram, exchange)
    failed = exchange["status"] >= 400
    if exchange["forwarded"]:
        service = (exchange["service"] or "").rsplit("/", 1)[-1]
        diagram.message(MEDIATOR, provider, f"{exchange['method']} {service}")
        diagram.message(provider, MEDIATOR, str(exchange["status"]), reply=True, failed=failed)
    label = _status(exchange["status"], exchange.get("outcome"))
    if exchange.get("error_type"):
        label += f" ({exchange['error_type']})"
    diagram.message(MEDIATOR, consumer, label, reply=True, failed=failed)


def _subject_checks(diagram: Diagram, exchange: dict[str, Any]) -> None:
    """What the log implies the mediator did before forwarding a request about a person: a
    subject hash means a token exchange with the ID system, a decision id a consent decision."""
    topology = load_topology()
    decided = exchange["consent"] != "not required"
    if exchange.get("subject_hash"):
        id_system = short(topology.member_id("id_registry"))
        diagram.message(MEDIATOR, id_system, "token exchange")
        error = str(exchange.get("error_type") or "").rsplit(".", 1)[-1]
        label, failed = "provider's (and consent's) token", False
        if not (decided or exchange["forwarded"]) and error == "AccessDenied":
            label, failed = "unknown or inactive: refused (fail closed)", True
        elif not (decided or exchange["forwarded"]) and error in UNREACHABLE:
            label, failed = "no answer", True
        diagram.message(id_system, MEDIATOR, label, reply=True, failed=failed)
    if decided:
        consent = short(topology.member_id("consent"))
        diagram.message(MEDIATOR, consent, f"decision? [{exchange.get('purpose') or ''}]")
        denied = exchange["consent"] == "deny"
        diagram.message(consent, MEDIATOR, exchange["consent"], reply=True, failed=denied)


def diagram_of(trace: dict[str, Any]) -> Diagram:
    """Steps in order; each with the runner's direct call or the mediator's logged exchanges."""
    diagram = Diagram()
    exchanges = trace.get("exchanges", [])
    for step in trace["run"]["steps"]:
        if step["status"] == "skipped":
            continue
        diagram.items.append(Note(f"{step['index']}. {step['title']}"))
        call = step.get("call")
        logged = [e for e in exchanges if e.get("step") == step["index"]]
        if call and call.get("client") is None:
            actor, lane = step["actor"], _lane(call["target"])
            diagram.message(actor, lane, f"{call['method']} {_path(_url_path(call))}")
            reply = call["status"] if call.get("status") is not None else "no response"
            failed = call.get("status") is None or call["status"] >= 400
            diagram.message(lane, actor, str(reply), reply=True, failed=failed)
        elif call and not any(e.get("x_road_id") == call.get("x_road_id") for e in logged):
            consumer = short(call["client"])
            diagram.message(consumer, MEDIATOR, f"{call['method']} {short(call['provider'])}")
            diagram.message(
                MEDIATOR, consumer, f"{call.get('status')} (not in the log)", reply=True
            )
        for exchange in logged:
            _exchange(diagram, exchange)
    return diagram


def _service_path(exchange: dict[str, Any]) -> str:
    """`/r1/DPI/GOV/NIA/id-registry/idauth/x/y` -> `idauth/x/y`: the provider is drawn anyway."""
    path, service = str(exchange["path"]), exchange.get("service") or ""
    prefix = f"/r1/{service.rsplit('/', 1)[0]}/" if service else "/r1/"
    return _path(path.removeprefix(prefix) if path.startswith(prefix) else path, 40)


def _lane(service: str) -> str:
    """A service called directly shares the lane of its member subsystem (or the mediator's)."""
    topology = load_topology()
    if service not in topology.names():
        return service
    member = topology.member_id(service)
    return short(member) if member else MEDIATOR


def _url_path(call: dict[str, Any]) -> str:
    url = str(call["url"])
    after_scheme = url.split("://", 1)[-1]
    return "/" + after_scheme.split("/", 1)[1] if "/" in after_scheme else "/"


def _mermaid_text(text: str) -> str:
    return text.replace(";", ",").replace("#", "#35;").replace("\n", " ")


def to_mermaid(diagram: Diagram) -> str:
    ids = {name: f"P{i}" for i, name in enumerate(diagram.participants)}
    lines = ["sequenceDiagram"]
    for name, ident in ids.items():
        lines.append(f"    participant {ident} as {_mermaid_text(name)}")
    for item in diagram.items:
        if isinstance(item, Note):
            if item.over:
                over = ",".join(ids[n] for n in item.over)
            elif len(ids) > 1:
                over = f"{ids[diagram.participants[0]]},{ids[diagram.participants[-1]]}"
            else:
                over = next(iter(ids.values()), "P0")
            lines.append(f"    Note over {over}: {_mermaid_text(item.text)}")
        else:
            arrow = "-->>" if item.reply else "->>"
            if item.failed:
                arrow = "--x" if item.reply else "-x"
            source, target = ids[item.source], ids[item.target]
            lines.append(f"    {source}{arrow}{target}: {_mermaid_text(item.label)}")
    return "\n".join(lines) + "\n"


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
