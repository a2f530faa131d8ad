"""The ASGI application: the API under /api/v1 (and, later, the web app under /)."""

from __future__ import annotations

from fastapi import Depends
from sqlalchemy import Engine

from governance.audit.sealing import install_chain_key
from service.api.admission import DatabaseAdmission
from service.api.deps import ids_in_range, text_is_unicode
from service.api.headers import SecurityHeaders
from service.api.limits import BodySizeLimit
from service.api.openapi import DocumentedAPI
from service.api.problems import install_pool_exhausted_handler, install_problem_handlers
from service.api.routes import (
    audit,
    bundles,
    candidates,
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
    technical_file,
    users,
)
from service.api.view_cache import EdgeMemory
from service.database import engine_for, session_factory
from service.docs import install_docs
from service.secret_key import audit_chain_key
from service.settings import Settings, get_settings
from service.web import router as web_router
from service.workers import executor_lifespan, make_executor

API_PREFIX = "/api/v1"
OPENAPI_URL = "/openapi.json"


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> DocumentedAPI:
    settings = settings or get_settings()
    app = DocumentedAPI(
        title="Steward",
        summary="Lifecycle governance for AI HR products.",
        version="0.1.0",
        docs_url=None,  # served by install_docs from installed assets, not a CDN
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=executor_lifespan,
        dependencies=[Depends(ids_in_range), Depends(text_is_unicode)],
    )
    app.api_prefix = API_PREFIX
    app.state.settings = settings
    # What this server remembers between requests: live pointers, token grants, views (service/api/view_cache.py).
    app.state.edge_memory = EdgeMemory.of(settings)
    # Read on first use: creating an app must not write the secret key file yet.
    install_chain_key(lambda: audit_chain_key(settings))
    app.state.engine = engine or engine_for(
        settings.database_url,
        # A connection for every admitted request, and one for each thread of the embedded executor, its
        # poller, the notification pump and a request's second, short transaction (a browser session's seen-at).
        pool_size=settings.db_pool_size + settings.embedded_workers + 3,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    app.state.session_factory = session_factory(app.state.engine)
    app.state.executor = make_executor(settings, app.state.engine)
    install_problem_handlers(app)
    install_pool_exhausted_handler(app)
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
        technical_file,
        candidates,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(web_router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        DatabaseAdmission,
        limit=settings.db_pool_size,
        write_limit=settings.db_write_slots,
        timeout=settings.db_pool_timeout_seconds,
    )
    # Outermost, so responses from the body limit and unhandled errors carry the headers too.
    app.add_middleware(SecurityHeaders)
    return app
