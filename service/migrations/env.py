"""Alembic environment: migrates the database named by the caller, or by the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

# Importing the table modules registers every table on the metadata that migrations are compared with.
from governance.accounts import models as _accounts_models  # noqa: F401
from governance.audit import models as _audit_models  # noqa: F401
from governance.bundles import models as _bundles_models  # noqa: F401
from governance.catalog import models as _catalog_models  # noqa: F401
from governance.compliance import models as _compliance_models  # noqa: F401
from governance.feedback import models as _feedback_models  # noqa: F401
from governance.incidents import models as _incidents_models  # noqa: F401
from governance.kernel.db import Base
from governance.notifications import models as _notifications_models  # noqa: F401
from governance.recertification import models as _recertification_models  # noqa: F401
from governance.releases import models as _releases_models  # noqa: F401
from governance.runs import models as _runs_models  # noqa: F401
from governance.serving import models as _serving_models  # noqa: F401
from governance.technical_file import models as _technical_file_models  # noqa: F401
from service.database import make_engine
from service.settings import get_settings

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
