"""The ASGI application: the API under /api/v1 (and, later, the web app under /)."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from governance.audit.sealing import install_chain_key
from service.api.deps import ids_in_range, text_is_unicode
from service.api.headers import SecurityHeaders
from service.api.limits import BodySizeLimit
from service.api.problems import install_problem_handlers
from service.api.routes import (
    audit,
    bundles,
    compliance,
    feedback,
    health,
    incidents,
    keys,
    live,
    notifications,
    products,
    recertification,
    releases,
    shared,
    users,
)
from service.database import engine_for, session_factory
from service.docs import install_docs
from service.secret_key import audit_chain_key
from service.settings import Settings, get_settings
from service.web import router as web_router
from service.workers import executor_lifespan, make_executor

API_PREFIX = "/api/v1"
OPENAPI_URL = "/openapi.json"


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Steward",
        summary="Lifecycle governance for AI HR products.",
        version="0.1.0",
        docs_url=None,  # served by install_docs from installed assets, not a CDN
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=executor_lifespan,
        dependencies=[Depends(ids_in_range), Depends(text_is_unicode)],
    )
    app.state.settings = settings
    # Read on first use: creating an app must not write the secret key file yet.
    install_chain_key(lambda: audit_chain_key(settings))
    app.state.engine = engine or engine_for(settings.database_url)
    app.state.session_factory = session_factory(app.state.engine)
    app.state.executor = make_executor(settings, app.state.engine)
    install_problem_handlers(app)
    install_docs(app, OPENAPI_URL)
    app.include_router(health.router)
    app.include_router(health.router, prefix=API_PREFIX)
    for module in (
        users,
        products,
        shared,
        releases,
        notifications,
        audit,
        bundles,
        compliance,
        live,
        keys,
        feedback,
        incidents,
        recertification,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(web_router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Outermost, so responses from the body limit and unhandled errors carry the headers too.
    app.add_middleware(SecurityHeaders)
    return app
