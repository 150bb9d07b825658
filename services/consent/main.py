"""Builds the consent app."""

from fastapi import FastAPI

from services.consent.base import Base
from services.kernel.app import create_service_app
from services.kernel.settings import ServiceSettings, load_settings

SERVICE = "consent"


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(settings=settings or load_settings(SERVICE), metadata=Base.metadata)


app = create_app()
