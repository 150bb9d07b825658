"""Builds the sectoral_platform app."""

from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.settings import ServiceSettings, load_settings
from services.sectoral_platform.base import Base

SERVICE = "sectoral_platform"


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(settings=settings or load_settings(SERVICE), metadata=Base.metadata)


app = create_app()
