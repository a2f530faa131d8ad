from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness check (no authentication).")
async def healthz() -> dict[str, str]:
    """Liveness check (no authentication)."""
    # async: it touches nothing that blocks, so it is answered on the event loop without a thread-pool trip
    return {"status": "ok"}
