"""The page shell and small HTML helpers (server-rendered; no template engine needed)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse

PAGES = (
    ("map", "/", "Architecture map"),
    ("log", "/log", "Exchange log"),
    ("scenarios", "/scenarios", "Scenarios"),
    ("people", "/people", "People & credentials"),
)


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def page(title: str, active: str, body: str, *, status_code: int = 200) -> HTMLResponse:
    nav = "".join(
        f'<a href="{href}" class="{"on" if key == active else ""}">{label}</a>'
        for key, href, label in PAGES
    )
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} — DPI Sandbox console</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body data-page="{active}"><header><b>DPI Sandbox</b><nav>{nav}</nav>
<span id="live" class="live" title="live updates">●</span></header>
<main>{body}</main><script src="/static/console.js"></script></body></html>""",
        status_code=status_code,
    )


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], css: str = "") -> str:
    """Cells are HTML already (escape what is text)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def query(**params: object) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def select(name: str, options: Iterable[tuple[str, str]], chosen: str | None) -> str:
    items = "".join(
        f'<option value="{e(v)}"{" selected" if v == (chosen or "") else ""}>{e(label)}</option>'
        for v, label in options
    )
    return f'<select name="{name}" id="f-{name}">{items}</select>'


class NotFoundPage(Exception):
    """A 404 page that says what exists (links)."""

    def __init__(self, message: str, existing: list[tuple[str, str]], what: str) -> None:
        super().__init__(message)
        self.message, self.existing, self.what = message, existing, what


def not_found(exc: NotFoundPage) -> HTMLResponse:
    items = "".join(f'<li><a href="{e(href)}">{e(label)}</a></li>' for href, label in exc.existing)
    listing = f"<ul>{items}</ul>" if items else "<p>None yet.</p>"
    body = f'<h1>Not found</h1><p class="bad">{e(exc.message)}</p><h2>{e(exc.what)}</h2>{listing}'
    return page("Not found", "", body, status_code=404)
