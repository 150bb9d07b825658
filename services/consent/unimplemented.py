"""What the GovStack Consent BB API defines and the sandbox does not implement: refused (400,
problem details naming it) when given a value, never silently ignored.

`kernel.unimplemented.refuse_given` is the check; the one validation renderer names the field
(`dataAgreement.signature`) or query parameter (`revisionId`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BeforeValidator, Field

from services.kernel.unimplemented import refuse_given

UPSTREAM = "the GovStack Consent API"
_NOTE = "Not implemented by the sandbox: refused when given a value"

UnimplementedField = Annotated[
    Any, BeforeValidator(refuse_given(UPSTREAM)), Field(description=_NOTE)
]
UnimplementedQuery = Annotated[
    str | None, BeforeValidator(refuse_given(UPSTREAM)), Query(description=_NOTE)
]
