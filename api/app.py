"""The HTTP API: `create_app(ledger)` builds it around one Ledger.

Every command of the Ledger is a POST and every projection and replay query a GET, under /api/v1; the
OpenAPI schema is at /openapi.json and the interactive documentation at /docs. How tokens map to
officials, roles and scopes is in `api/auth.py`; how refusals map to statuses, in `api/errors.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import FastAPI

from api import errors
from api.routes import access, cycles, diary, discipline, events, org, replay, scores, targets, tasks
from api.routes.common import Views, today_in_vietnam
from domain.ledger import Ledger
from replay.checkpoints import Signer

PREFIX = "/api/v1"
ROUTERS = [org.router, cycles.router, tasks.router, diary.router, discipline.router, targets.router,
           scores.router, replay.router, events.router, access.router]

DESCRIPTION = """\
Sổ cái KPI cán bộ, công chức, viên chức: every assignment, diary entry, submission, approval,
sanction and target result is an immutable event; scores are projections of them.

* **Authentication**: `Authorization: Bearer <token>`; a token (from `kpi-ledger token create`)
  is bound to one official, roles and a unit scope.
* **Commands** are POSTs; send an `Idempotency-Key` header to retry safely: the retry records
  nothing new and answers as the first call did. The actor is always the token's official.
* **Dates**: submissions, approvals and returns are dated today in Vietnam (UTC+7) by the server.
* **Errors** share one shape: `{"error": {"code", "field", "reason", "fields": [...]}}`.
"""


def create_app(
    ledger: Ledger, *, today: Callable[[], date] = today_in_vietnam, signer: Signer | None = None
) -> FastAPI:
    """`today` is the business day for server-dated commands (a fixed day in tests); with a
    `signer`, closing a cycle also signs and stores checkpoints of the log (DESIGN, integrity)."""
    app = FastAPI(title="KPI ledger API", version="1", description=DESCRIPTION)
    app.state.ledger = ledger
    app.state.views = Views(ledger)
    app.state.today = today
    app.state.signer = signer
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX, responses=errors.ERROR_RESPONSES)
    return app
