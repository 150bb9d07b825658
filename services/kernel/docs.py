"""`/docs` (Swagger UI) and `/redoc` from assets served by the service itself: no CDN, so the
API pages work on a laptop with no internet. The assets are those `fastapi-offline` ships."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/docs"
REDOC = "/redoc"
ASSETS = "/docs/assets"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    "validatorUrl": None,  # the default badge asks a public validator about the document
    "persistAuthorization": True,  # what "Authorize" took survives a reload
    "tryItOutEnabled": True,
    "displayRequestDuration": True,
}
# The pages may reach their own service only: ReDoc's sidebar always asks a CDN for its logo,
# which the browser now refuses before any request leaves (the logo hides itself).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'self'"
)


def assets_directory() -> str:
    """Swagger UI's and ReDoc's bundles, from the installed `fastapi_offline` package."""
    return str(files("fastapi_offline") / "static")


def docs_kwargs() -> dict[str, Any]:
    """FastAPI's own docs routes are off: theirs load the UI from a CDN."""
    return {"docs_url": None, "redoc_url": None, "swagger_ui_oauth2_redirect_url": None}


def install_docs(app: FastAPI) -> None:
    """Serve `/docs`, `/redoc` and their assets under `/docs/assets`."""
    app.mount(ASSETS, StaticFiles(directory=assets_directory()), name="docs-assets")

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = root(request)
        page = get_swagger_ui_html(
            openapi_url=f"{base}{app.openapi_url}",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{base}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS}/favicon.png",
            oauth2_redirect_url=f"{base}{OAUTH2_REDIRECT}",
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )
        return _self_only(page)

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        page = get_redoc_html(
            openapi_url=f"{base}{app.openapi_url}",
            title=f"{app.title} — API reference",
            redoc_js_url=f"{base}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        return _self_only(page)


def _self_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page
