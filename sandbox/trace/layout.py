"""Where a sequence diagram's lifelines go so that no box or label is cut off or overlaps.

Text is measured by an estimate on the wide side (no fonts here): a column between two lifelines
is widened until every label drawn across it fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CHAR_WIDTH = 7.4  # px per character of 12px sans-serif; wider than most fonts' average
BOX_MIN, BOX_PAD = 120, 20  # a participant's box: at least this wide, padding around its name
GAP_MIN, LABEL_PAD = 40, 28  # between two boxes; around a label over its arrow
MARGIN = 12


def text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


@dataclass(frozen=True)
class Span:
    """A label drawn between lifelines `first` and `last` (equal: a message to itself)."""

    first: int
    last: int
    text: str


@dataclass(frozen=True)
class Columns:
    """Lifelines' x positions, their boxes' widths, and the drawing's left and right edges."""

    x: tuple[float, ...]
    box: tuple[float, ...]
    left: float
    right: float

    @property
    def width(self) -> float:
        return self.right - self.left


def columns(names: Sequence[str], spans: Iterable[Span], notes: Iterable[Span] = ()) -> Columns:
    """Lifelines far enough apart for every message label; notes widen the edges if need be."""
    boxes = [max(BOX_MIN, text_width(name) + BOX_PAD) for name in names] or [BOX_MIN]
    gaps = [(boxes[i] + boxes[i + 1]) / 2 + GAP_MIN for i in range(len(boxes) - 1)]
    loops: dict[int, float] = {}
    for span in sorted(spans, key=lambda s: s.last - s.first):
        need = text_width(span.text) + LABEL_PAD
        if span.first == span.last:  # drawn to the right of its lifeline
            loops[span.first] = max(loops.get(span.first, 0.0), need)
            continue
        short = need - sum(gaps[span.first : span.last])
        if short > 0:
            for i in range(span.first, span.last):
                gaps[i] += short / (span.last - span.first)
    for index, need in loops.items():
        if index < len(gaps):
            gaps[index] = max(gaps[index], need + boxes[index + 1] / 2)
    x = [boxes[0] / 2]
    for gap in gaps:
        x.append(x[-1] + gap)
    left = min(x[i] - boxes[i] / 2 for i in range(len(x)))
    right = max(
        max(x[i] + boxes[i] / 2 for i in range(len(x))),
        max((x[i] + need for i, need in loops.items()), default=0.0),
    )
    for note in notes:
        edges = note_edges(x, boxes, note)
        left, right = min(left, edges[0]), max(right, edges[1])
    shift = MARGIN - left
    return Columns(
        x=tuple(v + shift for v in x),
        box=tuple(boxes),
        left=0.0,
        right=right + shift + MARGIN,
    )


def note_edges(x: Sequence[float], box: Sequence[float], note: Span) -> tuple[float, float]:
    """A note covers its lifelines' boxes, or is as wide as its text, centred on them."""
    low, high = x[note.first] - box[note.first] / 2, x[note.last] + box[note.last] / 2
    half = max(text_width(note.text) + BOX_PAD, high - low) / 2
    centre = (low + high) / 2
    return centre - half, centre + half
