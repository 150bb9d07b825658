"""The login and consent page: one self-contained HTML document, no script, no external asset."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from services.id_registry.oidc.login import Page

CLAIM_LABELS = {
    "name": "Full name",
    "given_name": "Given name",
    "family_name": "Family name",
    "birthdate": "Date of birth",
    "gender": "Gender",
    "address": "Address",
    "phone_number": "Phone number",
    "email": "Email",
}
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}"
    "fieldset{margin:1rem 0;border:1px solid #ccc}label{display:block;margin:.4rem 0}"
    ".error{color:#a00}.notice{color:#060}"
)


def _hidden(page: Page) -> str:
    return f'<input type="hidden" name="transaction_id" value="{escape(page.txn.id)}">'


def _individual(page: Page) -> str:
    return (
        '<label>UIN or VID <input name="individual_id" required maxlength="64" '
        f'value="{escape(page.individual_id)}" autocomplete="off"></label>'
    )


def _claims(page: Page) -> str:
    if not page.txn.claims:
        return ""
    boxes = []
    for claim in page.txn.claims:
        essential = claim in page.txn.essential_claims
        boxes.append(
            f'<label><input type="checkbox" name="claim" value="{escape(claim)}" checked'
            f"{' required' if essential else ''}> {escape(CLAIM_LABELS.get(claim, claim))}"
            f"{' (required)' if essential else ''}</label>"
        )
    client = escape(page.client.name)
    return f"<fieldset><legend>Share with {client}</legend>{''.join(boxes)}</fieldset>"


def render(page: Page) -> HTMLResponse:
    factors = page.txn.factors
    messages = "".join(
        f'<p class="error">{escape(item["errorCode"])}: {escape(item["errorMessage"])}</p>'
        for item in page.errors
    )
    if page.notice:
        messages += f'<p class="notice">{escape(page.notice)}</p>'
    otp_request = ""
    if "otp" in factors:
        otp_request = (
            '<form method="post" action="/authorize/send-otp"><fieldset><legend>One-time password'
            f"</legend>{_hidden(page)}{_individual(page)}"
            '<label><input type="checkbox" name="channel" value="PHONE" checked> Phone</label>'
            '<label><input type="checkbox" name="channel" value="EMAIL" checked> Email</label>'
            "<button>Send OTP</button></fieldset></form>"
        )
    factor_inputs = ""
    if "otp" in factors:
        factor_inputs += (
            '<label>OTP <input name="otp" inputmode="numeric" maxlength="8" '
            'autocomplete="one-time-code"></label>'
        )
    if "demo" in factors:
        factor_inputs += (
            '<label>Full name <input name="name" maxlength="300"></label>'
            '<label>Date of birth <input name="dob" type="date"></label>'
        )
    body = (
        f"<h1>Log in to {escape(page.client.name)}</h1>"
        "<p>with your national ID. The service receives a token of its own for you, "
        "never your UIN or VID.</p>"
        f"{messages}{otp_request}"
        f'<form method="post" action="/authorize">{_hidden(page)}'
        f"<fieldset><legend>Log in</legend>{_individual(page)}{factor_inputs}</fieldset>"
        f"{_claims(page)}"
        '<button name="action" value="login">Log in and share</button> '
        '<button name="action" value="cancel" formnovalidate>Cancel</button></form>'
    )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>National ID login</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=page.status, headers=HEADERS)
