"""The one place where refusals become HTTP answers, all in one body shape.

    401 no token, or one that is unknown or revoked
    403 outside the caller's roles, scope or 6-rõ authority (`NotAuthorised`)
    404 an id that names nothing (`NotFound`), or no such route
    409 contradicts what is recorded, or a concurrent change (`Conflict`)
    422 bad input, naming each field at fault and why (`InvalidInput`, request validation)
    503 the database cannot be reached (nothing was recorded; retry)

Every one of them is `{"error": {"code", "field", "reason", "fields": [{"field", "reason"}]}}`,
so a client needs one parser. A refused command has recorded nothing: the Ledger checks before
it saves, and the API's own checks run before the Ledger is called.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Unauthenticated
from api.schemas import ErrorBody
from domain.errors import Conflict, InvalidInput, LedgerError, NotAuthorised, NotFound

STATUS: dict[type[LedgerError], tuple[int, str]] = {
    Unauthenticated: (401, "unauthenticated"),
    NotAuthorised: (403, "not_authorised"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    InvalidInput: (422, "invalid_input"),
}
HTTP_CODES = {401: "unauthenticated", 403: "not_authorised", 404: "not_found", 405: "method_not_allowed",
              409: "conflict", 422: "invalid_input"}
# The Ledger calls the client's Idempotency-Key its command id.
API_FIELD = {"command_id": "Idempotency-Key"}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no token, or an unknown or revoked one"},
    403: {"model": ErrorBody, "description": "outside your roles, scope or authority"},
    404: {"model": ErrorBody, "description": "no such record"},
    409: {"model": ErrorBody, "description": "contradicts what is recorded"},
    422: {"model": ErrorBody, "description": "invalid input: each bad field and why"},
    503: {"model": ErrorBody, "description": "the database cannot be reached; retry"},
}


def body(code: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
    field, reason = fields[0]
    return {"error": {"code": code, "field": field, "reason": reason,
                      "fields": [{"field": f, "reason": r} for f, r in fields]}}


def ledger_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    status, code = next(v for k, v in STATUS.items() if isinstance(exc, k))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    field = API_FIELD.get(exc.field, exc.field)
    return JSONResponse(body(code, [(field, exc.reason)]), status_code=status, headers=headers)


def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [(_field_name(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in exc.errors()]
    return JSONResponse(body("invalid_input", fields or [("body", "invalid request")]), status_code=422)


def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # a body that is not even text (FastAPI's only 400): bad input
        return JSONResponse(body("invalid_input", [("body", str(exc.detail))]), status_code=422)
    code = HTTP_CODES.get(exc.status_code, "error")
    field = "method" if exc.status_code == 405 else "path"
    return JSONResponse(body(code, [(field, str(exc.detail))]), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


def database_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(body("unavailable", [("database", "the database cannot be reached; retry")]),
                        status_code=503)


def _field_name(loc: Any) -> str:
    """("body", "params", "holidays", 0) -> "params.holidays.0"; the source is dropped."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, ledger_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(InterfaceError, database_error)
