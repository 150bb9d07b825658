"""Before forwarding: translate the subject's token and, where required, ask for consent."""

from __future__ import annotations

import hashlib

from services.interop_layer.consent_gate.clients import DecisionClient, TokenExchanger
from services.interop_layer.directory import ServiceTarget
from services.interop_layer.errors import BadRequest, ConsentDenied
from services.interop_layer.identifiers import is_member
from services.interop_layer.messagelog.capture import Exchange
from services.kernel.credentials import partner_id

SUBJECT = "x-dpi-subject"
PURPOSE = "x-dpi-purpose"


def subject_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def admit(
    *,
    exchange: Exchange,
    target: ServiceTarget,
    client: str,
    subject: str | None,
    purpose: str | None,
    consent_partner: str,
    exchanger: TokenExchanger,
    decider: DecisionClient,
) -> str | None:
    """The provider's token for the subject (None when the request is not about a person).

    Raises a mediator error when headers are missing, the identity is refused or consent denies.
    """
    if target.consent_required and not (subject and purpose):
        raise BadRequest(
            f"Service {target.id} requires consent: send X-DPI-Subject and X-DPI-Purpose."
        )
    if not subject:
        return None
    exchange.subject_hash = subject_hash(subject)
    exchange.purpose = purpose
    if is_member(client):
        # the ID system's partners are subsystems: a member-level client has no sector token
        raise ConsentDenied(
            f"Client {client} is a member: calls about a person need a subsystem client."
        )
    consumer, provider = partner_id(client), partner_id(target.provider)
    wanted = [provider]
    if target.consent_required and consent_partner not in wanted:
        wanted.append(consent_partner)
    tokens = await exchanger.exchange(from_partner=consumer, token=subject, to_partners=wanted)
    if target.consent_required:
        assert purpose is not None
        decision = await decider.decide(
            subject=tokens[consent_partner],
            data_consumer=client,
            data_provider=target.provider,
            purpose=purpose,
            data_categories=list(target.data_categories),
        )
        exchange.decision_id = decision.decision_id or None
        exchange.consent_record_id = decision.consent_record_id
        if decision.decision != "permit":
            reason = decision.reason or "no consent record permits this request"
            raise ConsentDenied(f"Consent denied: {reason}")
    return tokens[provider]
