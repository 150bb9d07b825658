"""The scenario file format, as pydantic models: what an integrator may write in `scenarios/`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from sandbox.scenarios.paths import parse_path
from sandbox.scenarios.variables import VARIABLE

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # holds `services/` and `sandbox/`
# the repository in a checkout; in an installed wheel, the bundled copy of `scenarios/`
ROOT = PACKAGE_ROOT if (PACKAGE_ROOT / "scenarios").is_dir() else PACKAGE_ROOT / "sandbox" / "data"


def project_path(relative: str) -> Path | None:
    """A file or directory a scenario names relative to the repository root, or None: looked up
    in the checkout, or in an installed wheel among the bundled scenarios and the packages."""
    for root in dict.fromkeys((ROOT, PACKAGE_ROOT)):
        path = (root / relative).resolve()
        if path.is_relative_to(root) and path.exists():
            return path
    return None


MATCHERS = (
    "equals", "not_equals", "exists", "contains", "not_contains", "regex", "length",
    "at_least", "each", "any_of", "no_keys",
)  # fmt: skip
SUBSYSTEM = re.compile(r"^[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$")
SERVICE_ID = re.compile(r"^[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Matcher(Strict):
    """One check on a value found at a JSON path; a bare value in YAML means `equals`."""

    equals: Any = None
    not_equals: Any = None
    exists: bool | None = None
    contains: Any = None
    not_contains: Any = None
    regex: str | None = None
    length: int | None = Field(default=None, ge=0)
    at_least: int | float | str | None = Field(
        default=None, description="a number (or numeric text) at least this; or ${variable}"
    )
    each: Matcher | None = Field(default=None, description="every element of a list matches")
    any_of: list[Matcher] | None = Field(default=None, description="at least one matches")
    no_keys: list[str] | None = Field(
        default=None, description="no mapping anywhere inside has a key of these names"
    )

    @model_validator(mode="before")
    @classmethod
    def bare_value_means_equals(cls, value: Any) -> Any:
        if isinstance(value, dict) and value and set(value) <= set(MATCHERS):
            return value
        return {"equals": value}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        matcher = handler(core_schema)
        return {"anyOf": [matcher, {"description": "a bare value: the field must equal it"}]}

    @field_validator("no_keys", mode="before")
    @classmethod
    def one_key_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def valid_regex(self) -> Matcher:
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regex {self.regex!r}: {exc}") from exc
        if isinstance(self.at_least, str) and not VARIABLE.fullmatch(self.at_least):
            try:
                float(self.at_least)
            except ValueError as exc:
                raise ValueError(
                    f"at_least: a number or ${{variable}}, not {self.at_least!r}"
                ) from exc
        return self

    def checks(self) -> dict[str, Any]:
        """The checks given in the file (so that `equals: null` still counts)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class Expect(Strict):
    """What the response must show: status code(s), JSON fields by path, headers."""

    status: int | list[int] | None = None
    json_: dict[str, Matcher] = Field(default_factory=dict, alias="json")
    headers: dict[str, Matcher] = Field(default_factory=dict)

    @field_validator("json_")
    @classmethod
    def valid_paths(cls, value: dict[str, Matcher]) -> dict[str, Matcher]:
        for path in value:
            parse_path(path)
        return value

    def statuses(self) -> list[int] | None:
        if self.status is None:
            return None
        return [self.status] if isinstance(self.status, int) else list(self.status)


class BasicAuth(Strict):
    """HTTP Basic credentials (DHIS2 users, for instance)."""

    username: str = Field(min_length=1)
    password: str


class Upload(Strict):
    """A file sent as multipart/form-data: a repository directory, zipped at run time."""

    zip_dir: str = Field(description="a directory, relative to the repository root")
    field: str = Field(default="file", min_length=1, description="the form field's name")
    filename: str | None = Field(default=None, description="default: <directory name>.zip")

    @model_validator(mode="after")
    def inside_the_repository(self) -> Upload:
        path = project_path(self.zip_dir)
        if path is None or not path.is_dir():
            raise ValueError(
                f"`upload.zip_dir` {self.zip_dir!r}: no such directory in the repository"
            )
        return self

    @property
    def name(self) -> str:
        return self.filename or f"{Path(self.zip_dir).name}.zip"


class Request(Strict):
    """An HTTP call: to a service by topology name, or through the mediator as a client."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    service: str | None = Field(default=None, description="topology name, called directly")
    client: str | None = Field(default=None, description="calling subsystem (via the mediator)")
    provider: str | None = Field(default=None, description="service id INSTANCE/../SERVICECODE")
    path: str = ""
    query: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    json_: Any = Field(default=None, alias="json")
    form: dict[str, str] | None = None
    json_file: str | None = Field(
        default=None, description="a JSON body from a file, relative to the repository root"
    )
    upload: Upload | None = None
    subject: str | None = Field(default=None, description="X-DPI-Subject: the caller's token")
    purpose: str | None = Field(default=None, description="X-DPI-Purpose")
    admin: bool = False
    basic_auth: BasicAuth | None = None
    timeout: float = Field(default=15.0, gt=0, le=300)

    @model_validator(mode="after")
    def one_target(self) -> Request:
        mediated = self.client is not None or self.provider is not None
        if self.service is None and not mediated:
            raise ValueError("give `service` (direct call) or `client` + `provider` (mediator)")
        if self.service is not None and mediated:
            raise ValueError("`service` (direct) and `client`/`provider` (mediator) exclude")
        if mediated:
            if self.client is None or not SUBSYSTEM.match(self.client):
                raise ValueError("`client` must be a subsystem id INSTANCE/CLASS/MEMBER/SUBSYSTEM")
            if self.provider is None or not SERVICE_ID.match(self.provider):
                raise ValueError(
                    "`provider` must be a service id INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE"
                )
        if self.path and not self.path.startswith(("/", "${")):
            raise ValueError(f"`path` must start with '/': {self.path!r}")
        bodies = (self.json_, self.form, self.json_file, self.upload)
        if sum(x is not None for x in bodies) > 1:
            raise ValueError("`json`, `json_file`, `form` and `upload` exclude each other")
        if self.json_file is not None:
            path = project_path(self.json_file)
            if path is None or not path.is_file():
                raise ValueError(f"`json_file` {self.json_file!r}: no such file in the repository")
        return self

    @property
    def mediated(self) -> bool:
        return self.client is not None


class Capture(Strict):
    """Save part of a text value: the regex's first group (or the whole match)."""

    path: str
    regex: str

    @model_validator(mode="after")
    def valid(self) -> Capture:
        parse_path(self.path)
        try:
            re.compile(self.regex)
        except re.error as exc:
            raise ValueError(f"invalid regex {self.regex!r}: {exc}") from exc
        return self


class Poll(Strict):
    """Repeat the request until the expectation holds, or fail at the deadline."""

    timeout: float = Field(default=10.0, gt=0, le=600)
    interval: float = Field(default=0.2, gt=0, le=30)


StepKind = Literal["call", "admin", "fault", "poll"]


class Step(Strict):
    """One step of the narrative: who acts, across which boundary, and what must happen."""

    title: str = Field(min_length=1)
    actor: str = Field(min_length=1)
    boundary: str = Field(min_length=1)
    kind: StepKind = "call"
    note: str | None = None
    request: Request
    poll: Poll | None = None
    expect: Expect = Field(default_factory=Expect)
    save: dict[str, str | Capture] = Field(default_factory=dict)

    @model_validator(mode="after")
    def consistent_kind(self) -> Step:
        if self.kind == "poll" and self.poll is None:
            self.poll = Poll()
        if self.poll is not None and not (self.expect.status or self.expect.json_):
            raise ValueError("a polling step needs an `expect` to wait for")
        if self.kind in ("admin", "fault") and not self.request.admin:
            self.request = self.request.model_copy(update={"admin": True})
        for name, path in self.save.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"variable name {name!r}: letters, digits and _ only")
            if isinstance(path, str):
                parse_path(path)
        return self


class Scenario(Strict):
    """A runnable narrative of one DPI pattern."""

    title: str = Field(min_length=1)
    pattern: str = Field(min_length=1)
    summary: str = Field(min_length=1, description="one line, for `dpi scenarios`")
    description: str = Field(min_length=1)
    needs: list[str] = Field(default_factory=list, description="topology services it drives")
    vars: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
