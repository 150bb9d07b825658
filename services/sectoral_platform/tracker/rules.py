"""Program rules on import, as DHIS2's rule engine applies them: ASSIGN sets a data value or an
attribute (E1307 / E1309 when the payload holds another value), SHOWERROR and ERRORONCOMPLETE
fail the object (E1300), SHOWWARNING and WARNINGONCOMPLETE warn (E1300).

Enrollments see the rules of their program without a stage; events those of their program
without a stage or of their own stage. Rules run by `priority` (none last), then by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.aggregate.values import NUMERIC
from services.sectoral_platform.dhis2.rule_expr import (
    Context,
    ExpressionError,
    Node,
    display,
    evaluate,
    parse,
    truthy,
)
from services.sectoral_platform.tracker.checks import EN, EV, TE, Checks, Obj
from services.sectoral_platform.tracker.codes import report
from services.sectoral_platform.tracker.meta import TrackerMeta


@dataclass
class Action:
    kind: str
    data: Node | None
    content: str
    element: str | None
    attribute: str | None


@dataclass
class Rule:
    uid: str
    stage: str | None
    condition: Node
    actions: list[Action]


@dataclass
class RuleSet:
    variables: dict[str, Obj] = field(default_factory=dict)  # name -> stored variable
    rules: list[Rule] = field(default_factory=list)


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else None


def _parsed(text: Any) -> Node | None:
    try:
        return parse(text) if text else None
    except ExpressionError:
        return None  # refused on metadata import; a stored one that does not parse is skipped


def rule_set(meta: TrackerMeta, program: str) -> RuleSet:
    def build(key: str) -> RuleSet:
        store = meta.store
        found = RuleSet()
        for var in store.objects.get("programRuleVariables", {}).values():
            if _id(var.get("program")) == key and var.get("name"):
                found.variables[str(var["name"])] = var
        actions: dict[str, list[Action]] = {}
        for act in store.objects.get("programRuleActions", {}).values():
            actions.setdefault(str(_id(act.get("programRule"))), []).append(
                Action(
                    str(act.get("programRuleActionType")),
                    _parsed(act.get("data")),
                    str(act.get("content") or ""),
                    _id(act.get("dataElement")),
                    _id(act.get("trackedEntityAttribute")),
                )
            )
        rules = [
            r for r in store.objects.get("programRules", {}).values()
            if _id(r.get("program")) == key
        ]  # fmt: skip
        rules.sort(key=lambda r: (r.get("priority") is None, r.get("priority") or 0,
                                  str(r.get("name"))))  # fmt: skip
        for rule in rules:
            condition = _parsed(rule.get("condition"))
            if condition is not None:
                found.rules.append(
                    Rule(rule["id"], _id(rule.get("programStage")), condition,
                         actions.get(rule["id"], []))
                )  # fmt: skip
        return found

    result: RuleSet = meta._cached("rules", program, build)
    return result


def _typed(meta: TrackerMeta, value: str | None, value_type: str) -> Any:
    if value is None or value == "":
        return None
    if value_type in NUMERIC:
        try:
            return float(value)
        except ValueError:
            return value
    if value_type in ("BOOLEAN", "TRUE_ONLY"):
        return value.lower() == "true"
    return value


class _Run:
    """One evaluation: the values rules read and assign, and the object they report on."""

    def __init__(self, c: Checks, kind: str, uid: str, rules: RuleSet) -> None:
        self.c, self.kind, self.uid, self.rules = c, kind, uid, rules
        self.values: dict[str, str | None] = {}
        self.attributes: dict[str, str | None] = {}
        self.calculated: dict[str, Any] = {}
        self.targets: set[str] = set()  # what ASSIGN may write: the stage's or program's

    def variable(self, name: str) -> Any:
        var = self.rules.variables.get(name)
        if var is None:
            return None
        source = var.get("programRuleVariableSourceType")
        meta = self.c.meta
        if source == "CALCULATED_VALUE":
            return self.calculated.get(name)
        if source == "TEI_ATTRIBUTE":
            attr = _id(var.get("trackedEntityAttribute")) or ""
            info = meta.attribute(attr)
            return _typed(meta, self.attributes.get(attr), info.value_type if info else "TEXT")
        element = _id(var.get("dataElement")) or ""
        info = meta.element(element)
        return _typed(meta, self.values.get(element), info.value_type if info else "TEXT")

    def run(self, stage: str | None, env: dict[str, Any], completed: bool) -> None:
        ctx = Context(self.variable, env)
        for rule in self.rules.rules:
            if rule.stage is not None and rule.stage != stage:
                continue
            if not truthy(evaluate(rule.condition, ctx)):
                continue
            for action in rule.actions:
                self.apply(rule.uid, action, ctx, completed)

    def apply(self, rule: str, action: Action, ctx: Context, completed: bool) -> None:
        result = display(evaluate(action.data, ctx)) if action.data is not None else ""
        kind = action.kind
        if kind == "ASSIGN":
            self.assign(rule, action, result)
        elif kind in ("SHOWERROR", "ERRORONCOMPLETE", "SHOWWARNING", "WARNINGONCOMPLETE"):
            if kind.endswith("ONCOMPLETE") and not completed:
                return
            message = " ".join(p for p in (action.content, result) if p)
            if kind in ("SHOWERROR", "ERRORONCOMPLETE"):
                self.c.fail(self.kind, self.uid, "E1300", rule, message)
            else:
                self.c.out.warnings.append(report("E1300", self.kind, self.uid, rule, message))

    def assign(self, rule: str, action: Action, value: str) -> None:
        content = action.content.strip()
        if action.element is None and action.attribute is None:
            if content.startswith("#{") and content.endswith("}"):
                self.calculated[content[2:-1]] = value
            return
        if action.element is not None and self.kind == EV:
            target, store, code = action.element, self.values, "E1307"
        elif action.attribute is not None and self.kind == EN:
            target, store, code = action.attribute, self.attributes, "E1309"
        else:
            return
        if target not in self.targets:
            return
        current = store.get(target)
        if current not in (None, "") and current != value:
            self.c.fail(self.kind, self.uid, code, rule, target, value)
            return
        store[target] = value or None


def _planned_attributes(c: Checks, te: str) -> dict[str, str | None]:
    values: dict[str, str | None] = dict(c.state.te_attributes(te))
    for planned in c.out.planned[TE]:
        if planned.uid == te and planned.action != "delete":
            values.update({a["attribute"]: a["value"] for a in planned.obj["attributes"]})
    return values


def apply_rules(c: Checks, kind: str, uid: str, obj: Obj) -> None:
    """Evaluates the program's rules for a validated enrollment or event; assigned values are
    written into `obj`, errors and warnings into the outcome."""
    rules = rule_set(c.meta, obj["program"])
    if not rules.rules:
        return
    today = dhis2_timestamp()[:10]
    run = _Run(c, kind, uid, rules)
    if kind == EN:
        program = c.meta.program(obj["program"])
        run.targets = program.attributes if program is not None else set()
        run.attributes = _planned_attributes(c, obj["te"])
        run.attributes.update({a["attribute"]: a["value"] for a in obj["attributes"]})
        env = {
            "current_date": today,
            "enrollment_date": (obj["enrolled_at"] or "")[:10],
            "incident_date": (obj["occurred_at"] or "")[:10],
            "enrollment_status": obj["status"],
        }
        before = dict(run.attributes)
        run.run(None, env, obj["status"] == "COMPLETED")
        changed = {k: v for k, v in run.attributes.items() if before.get(k) != v}
        if changed:
            kept = [a for a in obj["attributes"] if a["attribute"] not in changed]
            obj["attributes"] = kept + [{"attribute": k, "value": v} for k, v in changed.items()]
        return
    stage = c.meta.stage(obj["program_stage"])
    run.targets = set(stage.elements) if stage is not None else set()
    run.values = {v["dataElement"]: v["value"] for v in obj["data_values"]}
    if obj.get("te"):
        run.attributes = _planned_attributes(c, obj["te"])
    parent = c.enrollment_objs.get(obj.get("enrollment") or "") or c.state.enrollments.get(
        obj.get("enrollment") or ""
    ) or {}  # fmt: skip
    env = {
        "current_date": today,
        "event_date": (obj["occurred_at"] or "")[:10],
        "event_status": obj["status"],
        "enrollment_date": (parent.get("enrolled_at") or "")[:10],
        "incident_date": (parent.get("occurred_at") or "")[:10],
        "enrollment_status": parent.get("status") or "",
    }
    before = dict(run.values)
    run.run(obj["program_stage"], env, obj["status"] == "COMPLETED")
    if run.values != before:
        given = {v["dataElement"]: v for v in obj["data_values"]}
        obj["data_values"] = [
            {**given.get(k, {}), "dataElement": k, "value": v} for k, v in run.values.items()
        ]
