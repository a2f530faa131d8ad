"""Local state is private: var/ is created 0700, the SQLite database file 0600."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from service.database import make_engine
from service.secret_key import server_secret_key
from service.settings import Settings


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_sqlite_database_and_its_directory_are_created_private(tmp_path):
    old = os.umask(0o022)
    try:
        var = tmp_path / "deep" / "var"
        engine = make_engine(f"sqlite:///{var / 'steward.db'}")
        with engine.begin() as connection:
            connection.execute(text("create table t (x int)"))
            connection.execute(text("insert into t values (1)"))
        assert mode(var) == 0o700
        assert mode(var / "steward.db") == 0o600
        assert all(mode(extra) == 0o600 for extra in var.glob("steward.db-*"))
        engine.dispose()
    finally:
        os.umask(old)


def test_the_generated_secret_key_lives_in_a_private_var_dir(tmp_path):
    old = os.umask(0o022)
    try:
        var = tmp_path / "var"
        server_secret_key(Settings(var_dir=var, secret_key=None))
        assert mode(var) == 0o700 and mode(var / "secret_key") == 0o600
    finally:
        os.umask(old)
