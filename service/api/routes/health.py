from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness check (no authentication).")
def healthz() -> dict[str, str]:
    """Liveness check (no authentication)."""
    return {"status": "ok"}
