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
    return ElementParser().feed(data, final=True)


class ElementParser:
    """Elements as the document arrives: each `feed` returns the elements it started (their text
    may still grow while they are open)."""

    def __init__(self) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser = parser
        self._found: list[Element] = []
        self._stack: list[Element] = []
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.ExternalEntityRefHandler = self._refuse
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text

    def _refuse(self, *_: object) -> NoReturn:
        raise FormatError(f"line {self._parser.CurrentLineNumber}: a DOCTYPE is not accepted")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        plain = {k.rsplit(" ", 1)[-1]: v for k, v in attrs.items()}
        element = Element(local, plain, self._parser.CurrentLineNumber, len(self._stack))
        self._found.append(element)
        self._stack.append(element)

    def _end(self, _: str) -> None:
        self._stack.pop()

    def _text(self, data: str) -> None:
        # the root's text is never read: kept, it would grow with a streamed document
        if len(self._stack) > 1:
            self._stack[-1].text += data

    def feed(self, data: bytes, final: bool = False) -> list[Element]:
        found, error = self.feed_partly(data, final)
        if error is not None:
            raise error
        return found

    def feed_partly(
        self, data: bytes, final: bool = False
    ) -> tuple[list[Element], FormatError | None]:
        """The elements started before any error in `data`, and the error."""
        error: FormatError | None = None
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            message = expat.errors.messages[exc.code]
            error = FormatError(f"line {exc.lineno}: malformed XML: {message}")
        except FormatError as exc:
            error = exc
        found, self._found = self._found, []
        return found, error
