"""The roles a user may hold; a module of its own so the CLI can name them without loading the database layer."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    admin = "admin"
    product_owner = "product_owner"
    reviewer = "reviewer"
    ci = "ci"
    # A running product's token: reads its products' live release and sends feedback, nothing else.
    runtime = "runtime"
