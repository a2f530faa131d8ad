"""A release's technical file (AI Act Annex IV) as JSON, Markdown or print-ready HTML, and two files compared."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from governance.kernel.errors import NotAcceptable
from governance.releases.reading import release_id_at
from governance.technical_file.comparing import compare
from governance.technical_file.freezing import technical_file
from governance.technical_file.rendering import markdown
from governance.technical_file.schemas import TechnicalFileComparison, TechnicalFileDocument
from service.api.deps import CurrentUser, DbSession
from service.web.technical_file import technical_file_html

router = APIRouter(tags=["releases"])

Format = Literal["json", "md", "html"]
MEDIA_TYPES: dict[str, str] = {"json": "application/json", "md": "text/markdown", "html": "text/html"}
# What an Accept header's media range asks for, by the format that answers it.
ACCEPTED: dict[str, str] = {
    "application/json": "json",
    "application/*": "json",
    "*/*": "json",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/*": "md",
}


def negotiate(accept: str | None) -> str:
    """The format an Accept header prefers (highest q first, then the order given); JSON when it names none.

    Raises:
        NotAcceptable: it accepts none of JSON, Markdown and HTML.
    """
    if not accept or not accept.strip():
        return "json"
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and media.lower() in ACCEPTED:
            ranked.append((-quality, index, ACCEPTED[media.lower()]))
    if not ranked:
        raise NotAcceptable(
            f"the technical file is served as application/json, text/markdown or text/html, not '{accept}'",
            field="Accept",
        )
    return min(ranked)[2]


_NEGOTIATED = {
    200: {
        "description": "The file: JSON (this schema), Markdown or print-ready HTML, by `format` or the Accept header.",
        "content": {"text/markdown": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}},
    },
    406: {"description": "The Accept header accepts none of JSON, Markdown and HTML."},
}


@router.get(
    "/releases/{release_id}/technical-file",
    summary="A release's technical file (Annex IV) as JSON, Markdown or HTML; frozen once the release went live.",
    response_model=TechnicalFileDocument,
    responses=_NEGOTIATED,  # type: ignore[arg-type]
)
def get_technical_file(
    release_id: int,
    request: Request,
    session: DbSession,
    actor: CurrentUser,
    format: Format | None = Query(None, description="json, md or html; without it the Accept header decides."),
    accept: str | None = Header(None, include_in_schema=False),
) -> Response:
    """A release's technical file (Annex IV) as JSON, Markdown or HTML; frozen once the release went live."""
    chosen = format or negotiate(accept)
    years = request.app.state.settings.technical_file_retention_years
    document = technical_file(session, release_id, retention_years=years)
    headers: dict[str, str] = {"X-Technical-File-Status": document.status}
    if document.frozen is not None:
        headers["X-Technical-File-SHA256"] = document.frozen.sha256
    if chosen == "md":
        return Response(markdown(document), media_type="text/markdown; charset=utf-8", headers=headers)
    if chosen == "html":
        return HTMLResponse(technical_file_html(document), headers=headers)
    return JSONResponse(document.model_dump(mode="json"), headers=headers)


@router.get(
    "/releases/{release_id}/technical-file/compare",
    summary="Two releases' technical files compared: a unified diff of each section.",
    responses={404: {"description": "No release, or no release `with` of the same product."}},
)
def compare_technical_files(
    release_id: int,
    session: DbSession,
    actor: CurrentUser,
    with_: int = Query(alias="with", ge=1, le=2**31 - 1, description="The number of the release to compare with."),
) -> TechnicalFileComparison:
    """Two releases' technical files compared: a unified diff of each section."""
    return compare(session, release_id, with_)


@router.get(
    "/products/{slug}/releases/{number}/technical-file",
    summary="A release's technical file by its product and number (JSON, Markdown or HTML).",
    response_model=TechnicalFileDocument,
    responses=_NEGOTIATED,  # type: ignore[arg-type]
)
def get_numbered_technical_file(
    slug: str,
    number: Annotated[int, Path(ge=1)],
    request: Request,
    session: DbSession,
    actor: CurrentUser,
    format: Format | None = Query(None, description="json, md or html; without it the Accept header decides."),
    accept: str | None = Header(None, include_in_schema=False),
) -> Response:
    """A release's technical file (Annex IV) as JSON, Markdown or HTML; frozen once the release went live."""
    release_id = release_id_at(session, slug, number)
    return get_technical_file(release_id, request, session, actor, format, accept)


@router.get(
    "/products/{slug}/releases/{number}/technical-file/compare",
    summary="Two releases' technical files compared, by product and numbers: a unified diff of each section.",
    responses={404: {"description": "No such product or release, or no release `with` of the product."}},
)
def compare_numbered_technical_files(
    slug: str,
    number: Annotated[int, Path(ge=1)],
    session: DbSession,
    actor: CurrentUser,
    with_: int = Query(alias="with", ge=1, le=2**31 - 1, description="The number of the release to compare with."),
) -> TechnicalFileComparison:
    """Two releases' technical files compared: a unified diff of each section."""
    return compare(session, release_id_at(session, slug, number), with_)
