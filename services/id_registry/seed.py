"""Deterministic sandbox data: a synthetic population and the partners of the topology.

Loaded on first start when the database is empty (idempotent), or by
`python -m services.id_registry.seed`.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, func, select

from services.id_registry.base import Base
from services.id_registry.hashing import hash_secret
from services.id_registry.identities.models import Identity, IdentityCreate
from services.id_registry.identities.service import dedupe_key, identity_values, new_uin
from services.id_registry.identities.store import IDENTITY
from services.id_registry.partners.models import Partner, PartnerCertificateRow, Policy
from services.id_registry.settings import IdRegistrySettings
from services.kernel.credentials import partner_id
from services.kernel.db import Database
from services.kernel.partner_keys import sandbox_partner_certificate_pem
from services.kernel.settings import load_settings
from services.kernel.time import as_utc, utcnow
from services.kernel.topology import load_topology

log = logging.getLogger("dpi.id_registry.seed")

FEMALE = [
    "Amara",
    "Lina",
    "Mei",
    "Sofia",
    "Noor",
    "Ana",
    "Zara",
    "Maya",
    "Ines",
    "Leila",
    "Aiko",
    "Nadia",
    "Elena",
    "Fatima",
    "Grace",
    "Hana",
    "Ivy",
    "Jana",
    "Kira",
    "Laila",
    "Mira",
    "Nia",
    "Olga",
    "Priya",
    "Rosa",
    "Sara",
    "Tara",
    "Uma",
    "Vera",
    "Yara",
]
MALE = [
    "Noah",
    "Omar",
    "Kofi",
    "Luca",
    "Ravi",
    "Tomas",
    "Adam",
    "Ben",
    "Chen",
    "Dario",
    "Emil",
    "Felix",
    "Hugo",
    "Idris",
    "Jonas",
    "Kai",
    "Leo",
    "Malik",
    "Nico",
    "Oscar",
    "Pavel",
    "Rami",
    "Samir",
    "Theo",
    "Umar",
    "Viktor",
    "Yusuf",
    "Zane",
    "Arjun",
    "Diego",
]
FAMILY = [
    "Abara",
    "Bello",
    "Costa",
    "Diallo",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kamau",
    "Larsen",
    "Mensah",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rahman",
    "Santos",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
    "Moreau",
    "Silva",
    "Nakamura",
    "Osei",
]
STREETS = [
    "Acacia",
    "Baobab",
    "Cedar",
    "Jacaranda",
    "Maple",
    "Olive",
    "Palm",
    "Tamarind",
    "Willow",
    "Juniper",
]

SECTOR_KYC: dict[str, list[str]] = {
    "moh-hmis": ["fullName", "dateOfBirth", "gender", "phone", "address"],
    "moe-emis": ["fullName", "dateOfBirth", "gender"],
    "msp-spmis": ["fullName", "dateOfBirth", "gender", "address", "phone"],
    "dpa-consent": ["fullName", "phone", "email"],
    "crvs-registries": ["fullName", "dateOfBirth", "gender"],
}
DEFAULT_KYC = ["fullName", "dateOfBirth", "gender"]


def _seed_certificate(session: Session, pid: str, now: datetime) -> None:
    """The published sandbox certificate of a scenario partner, unless one is registered (the
    certificate alone is read: loading and checking each private key cost 50 ms at every start)."""
    if session.get(PartnerCertificateRow, pid) is not None:
        return
    certificate_pem = sandbox_partner_certificate_pem(pid)
    if certificate_pem is not None:
        session.add(
            PartnerCertificateRow(
                partner_id=pid,
                certificate_id=f"sandbox-{pid}",
                certificate_pem=certificate_pem,
                uploaded_at=now,
            )
        )


def seed_partners(*, session: Session, settings: IdRegistrySettings, now: datetime) -> int:
    """Every member subsystem of the topology but the ID system itself, if not there yet."""
    topology = load_topology()
    own = topology.member_id("id_registry")
    added = 0
    for member_id, title in topology.subsystems().items():
        if member_id == own:
            continue
        pid = partner_id(member_id)
        existing = session.get(Partner, pid)
        if existing is not None:
            if "allowPlaintextRequests" not in existing.policy:  # stored before the flag existed
                existing.policy = {**existing.policy, "allowPlaintextRequests": True}
                session.add(existing)
            _seed_certificate(session, pid, now)
            continue
        policy = Policy.model_validate(
            {
                "authTokenType": "partner",
                "allowedAuthTypes": ["otp", "demo"],
                "allowPlaintextRequests": True,
                "allowedKycAttributes": [
                    {"attributeName": name} for name in SECTOR_KYC.get(pid, DEFAULT_KYC)
                ],
            }
        )
        session.add(
            Partner(
                partner_id=pid,
                name=title,
                api_key_hash=hash_secret(settings.api_key_for(pid)),
                policy=policy.model_dump(mode="json"),
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        _seed_certificate(session, pid, now)
        added += 1
    session.commit()
    return added


def person(rng: random.Random, index: int, today: date) -> IdentityCreate:
    """One synthetic person; the same `rng` state always gives the same person."""
    gender = rng.choice(("female", "male"))
    given = rng.choice(FEMALE if gender == "female" else MALE)
    family = rng.choice(FAMILY)
    born = today - timedelta(days=rng.randint(0, 85 * 365))
    return IdentityCreate(
        givenName=given,
        familyName=family,
        dateOfBirth=born,
        gender=gender,  # type: ignore[arg-type]
        address=f"{rng.randint(1, 250)} {rng.choice(STREETS)} Road, District {rng.randint(1, 12)}",
        phone=f"+999 {rng.randint(700, 799)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        email=f"{given}.{family}.{index}@example.org".lower(),
    )


def seed_population(*, session: Session, settings: IdRegistrySettings, now: datetime) -> int:
    """`settings.seed_population` people, only into an empty registry, in one commit.

    The same people and UINs as enrolling each in turn (`identities.service.enrol`, as the admin
    API does): the registry is empty, so its duplicate and UIN checks are made against the people
    generated so far, drawing from `rng` in the same order."""
    if session.exec(select(func.count()).select_from(Identity)).one() > 0:
        return 0
    rng = random.Random(settings.seed_random_seed)
    today = date(2026, 1, 1)  # fixed, so ages and the population do not drift with the clock
    keys: set[str] = set()
    uins: set[str] = set()
    people: list[dict[str, Any]] = []
    for index in range(settings.seed_population):
        data = person(rng, index, today)
        key = dedupe_key(
            given_name=data.givenName,
            family_name=data.familyName,
            date_of_birth=data.dateOfBirth,
            gender=data.gender,
        )
        if key in keys:
            continue  # a generated duplicate; the generator stays deterministic regardless
        uin = new_uin(rng, taken=uins.__contains__)
        keys.add(key)
        uins.add(uin)
        people.append(identity_values(data, uin=uin, key=key, now=now))
    # in one statement, as a batch enrolment inserts them: through the ORM (an object a person,
    # flushed one by one) it took most of the first start's seed
    if people:  # an empty parameter list would run the INSERT once, with no values at all
        session.execute(insert(IDENTITY), people)
    session.commit()
    return len(people)


def seed(*, session: Session, settings: IdRegistrySettings, now: datetime) -> tuple[int, int]:
    partners = seed_partners(session=session, settings=settings, now=now)
    people = seed_population(session=session, settings=settings, now=now)
    if partners or people:
        log.info("seeded %d partners and %d identities", partners, people)
    return partners, people


def main() -> None:
    settings = load_settings("id_registry", IdRegistrySettings)
    database = Database(settings.database(), Base.metadata)
    database.create_all()
    with database.session() as session:
        partners, people = seed(session=session, settings=settings, now=as_utc(utcnow()))
    database.dispose()
    print(f"seeded {partners} partners and {people} identities into {settings.database()}")


if __name__ == "__main__":
    main()
