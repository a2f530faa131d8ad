from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from governance.accounts import models as _accounts_models  # noqa: F401
from governance.audit import models as _audit_models  # noqa: F401
from governance.bundles import models as _bundles_models  # noqa: F401
from governance.catalog import models as _catalog_models  # noqa: F401
from governance.kernel.db import Base
from governance.notifications import models as _notifications_models  # noqa: F401
from governance.releases import models as _releases_models  # noqa: F401
from governance.runs import models as _runs_models  # noqa: F401
from service.migrate import current_revision, upgrade


def test_migrations_from_empty_match_the_models(engine, database_url):
    # database_url is migrated from an empty database by the fixture, on SQLite and on PostgreSQL.
    assert current_revision(database_url) is not None
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent(database_url):
    before = current_revision(database_url)
    upgrade(database_url)
    assert current_revision(database_url) == before
