"""Admin API for fault rules: add, list, remove one, clear all (every replica: `store.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.interop_layer.errors import NotFound
from services.interop_layer.faults.models import FaultRuleCreate, FaultRulePublic
from services.interop_layer.faults.service import make_rule
from services.interop_layer.runtime import RuntimeDep, fault_store
from services.kernel.credentials import AdminDep

router = APIRouter(prefix="/admin/faults", tags=["fault injection (admin)"])


@router.get("", summary="Fault rules in force, in matching order")
def list_faults(runtime: RuntimeDep, _: AdminDep) -> list[FaultRulePublic]:
    return [rule.public() for rule in fault_store(runtime).rules()]


@router.post("", status_code=201, summary="Add a fault rule (the first matching rule applies)")
def add_fault(runtime: RuntimeDep, _: AdminDep, data: FaultRuleCreate) -> FaultRulePublic:
    rule = make_rule(data, runtime.directory)
    fault_store(runtime).add(rule)
    return rule.public()


@router.delete("/{rule_id}", status_code=204, summary="Remove one fault rule")
def remove_fault(runtime: RuntimeDep, _: AdminDep, rule_id: str) -> Response:
    if not fault_store(runtime).remove(rule_id):
        raise NotFound(f"No fault rule {rule_id}.")
    return Response(status_code=204)


@router.delete("", status_code=204, summary="Remove every fault rule")
def clear_faults(runtime: RuntimeDep, _: AdminDep) -> Response:
    fault_store(runtime).clear()
    return Response(status_code=204)
