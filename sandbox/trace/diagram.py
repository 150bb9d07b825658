"""The sequence of a run as a small diagram model, drawn as Mermaid text here and as inline SVG
by `svg.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
