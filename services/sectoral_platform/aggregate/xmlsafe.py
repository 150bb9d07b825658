"""XML read with expat, refusing any DTD (so no entity expansion of any kind) and naming the
line of every error; DHIS2 payloads never need a DOCTYPE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn
from xml.parsers import expat


class FormatError(ValueError):
    """A malformed payload: reported in an ImportSummary, nothing imported."""


@dataclass(slots=True)
class Element:
    name: str  # local name, namespace dropped
    attrs: dict[str, str]
    line: int
    depth: int
    text: str = ""


def elements(data: bytes) -> list[Element]:
    """Every element in document order, with its depth and its text."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    found: list[Element] = []
    stack: list[Element] = []

    def refuse(*_: object) -> NoReturn:
        raise FormatError(f"line {parser.CurrentLineNumber}: a DOCTYPE is not accepted")

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        plain = {k.rsplit(" ", 1)[-1]: v for k, v in attrs.items()}
        element = Element(local, plain, parser.CurrentLineNumber, len(stack))
        found.append(element)
        stack.append(element)

    def end(_: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages[exc.code]
        raise FormatError(f"line {exc.lineno}: malformed XML: {message}") from exc
    return found
