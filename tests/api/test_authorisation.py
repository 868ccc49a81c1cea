"""The authorisation matrix: every route x every role x in scope and out of scope.

The expectations are written here from issue 6's rules, not read from the implementation:

- a command succeeds (200) for the roles it names, on a subject within the token's scope, and
  is refused (403) for any other role or for a subject outside the scope;
- reads about units are for the reading roles (unit head, monitoring team, inspector, appeals
  reviewer, admin) within their scope; reads about one official are also for that official;
- whole-ledger routes (a policy, a province, the deadline watcher, the event feed) need a grant
  without a unit: "in scope" is such a grant, "out of scope" a province-scoped one;
- a refused command records nothing: the log's head does not move.

Tokens (tests/api/conftest.py): official = Phạm Thị Dung; unit_head = the chairman of Xã Tân Lập
(scope: the commune); monitoring = the commune; inspector, appeals and admin = the province.
"Out of scope" subjects belong to the twin commune of another province.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from api.auth import hash_token, new_token
from domain.access import AccessRole
from domain.actors import Actor
from domain.cycles import CycleKind
from domain.discipline import SanctionKind
from domain.org import Post, UnitKind, official_id_for
from domain.tasks import KpiKind
from tests.api.conftest import ROLES, TODAY, World
from tests.commune import Commune

READERS = frozenset(ROLES) - {"official"}
EVERYONE = frozenset(ROLES)
WIDE = ("admin", "inspector", "appeals")  # roles that also hold a grant without a unit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None


class Ctx:
    """Makes the records a request needs, through the Ledger, in commune `c`."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.ledger = world.ledger
        self.n = itertools.count(1)
        self.months = itertools.count(4)

    def commune(self, where: str) -> Commune:
        return self.w.a if where == "in" else self.w.b

    def code(self) -> str:
        return f"M{next(self.n)}"

    def task(self, c: Commune, by: Actor | None = None, to: Actor | None = None, submit: bool = False) -> UUID:
        assignee = to or c.member
        task_id = self.ledger.assign_task(
            by or c.economy_head, cycle_id=c.cycle_id, assignee_id=assignee.official_id,
            title=f"Rà soát hồ sơ đất đai đợt {next(self.n)}", kind=KpiKind.HARD, product="Báo cáo rà soát",
            target_quantity=1, due_on=date(2026, 3, 13), on=date(2026, 3, 2), authority="Quy chế làm việc UBND xã",
        )
        if submit:
            self.ledger.submit_task(assignee, task_id=task_id, quantity=1, on=date(2026, 3, 4))
        return task_id

    def official(self, c: Commune, unit_id: UUID) -> UUID:
        code = c.tag + self.code()
        return self.ledger.enroll_official(
            c.admin, code=code, full_name="Trịnh Văn Phúc", position="Chuyên viên", unit_id=unit_id,
            staff_category="công chức", post_group="chuyên viên", on=date(2026, 1, 5),
        )

    def department(self, c: Commune) -> UUID:
        return self.ledger.register_unit(c.admin, code=c.tag + self.code(), name="Phòng Tư pháp",
                                         kind=UnitKind.DEPARTMENT, parent_id=c.commune_id)

    def month_cycle(self, c: Commune, close: bool = False) -> tuple[UUID, date]:
        month = next(self.months)
        starts = date(2026 + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        ends = (starts + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        cycle_id = self.ledger.open_cycle(c.admin, unit_id=c.commune_id, kind=CycleKind.MONTH, starts_on=starts,
                                          ends_on=ends)
        if close:
            self.ledger.close_cycle(c.admin, cycle_id=cycle_id, on=ends)
        return cycle_id, ends

    def sanction(self, c: Commune) -> UUID:
        return self.ledger.impose_sanction(
            c.economy_head, official_id=c.member.official_id, kind=SanctionKind.DEDUCTION,
            criterion="unexcused_training_absence", reason="Vắng tập huấn ngày 05/03", on=date(2026, 3, 5),
        )

    def entry(self, c: Commune) -> dict[str, Any]:
        day = date(2026, 3, 2) + timedelta(days=next(self.n) % 10)
        entry_no = self.ledger.log_work(c.member, cycle_id=c.cycle_id, on=day, hours=Decimal(1), duty="Tiếp công dân")
        return {"on": day.isoformat(), "entry_no": entry_no}

    def target(self, c: Commune) -> UUID:
        return self.ledger.set_target(c.admin, cycle_id=c.cycle_id, indicator=f"Chỉ tiêu {self.code()}",
                                      target_value=Decimal(100), measure="hộ", on=date(2026, 3, 2))

    def grant(self, c: Commune) -> UUID:
        return self.ledger.grant_access(c.admin, token_hash=hash_token(new_token()),
                                        official_id=c.member.official_id, roles=[AccessRole.OFFICIAL])


Make = Callable[[Ctx, str, str], Request]  # (ctx, role, "in" | "out") -> request


@dataclass(frozen=True)
class Route:
    name: str
    allowed: frozenset[str]
    make: Make
    wide: bool = False  # whole ledger: "in" is a grant without a unit, "out" a scoped one
    out: int | None = 403  # status out of scope for an allowed role; None: the route has no subject


def _submit(x: Ctx, role: str, where: str) -> Request:
    c = x.commune(where)
    if where == "in" and role == "unit_head":  # the chairman's own task, from the province's head
        task = x.task(c, by=Actor(official_id_for(c.code("BN-SNV-01")), "official"), to=c.chairman)
    else:
        task = x.task(c)
    return Request("POST", f"/tasks/{task}/submit", {"quantity": 1, "note": "Đã nộp"})


def _objective_cause(x: Ctx, role: str, where: str) -> Request:
    c = x.commune(where)
    task = x.task(c, submit=True)
    x.ledger.approve_task(c.economy_head, task_id=task, on=date(2026, 3, 5), major_errors=1)
    return Request("POST", f"/tasks/{task}/objective-cause",
                   {"deduction": "errors", "reason": "Số liệu gốc của Chi cục Thống kê sai", "on": "2026-03-09"})


def _void(x: Ctx, role: str, where: str) -> Request:
    c = x.commune(where)
    body = x.entry(c) | {"reason": "Ghi nhầm"}
    if role != "official" or where == "out":
        body["official_id"] = str(c.member.official_id)
    return Request("POST", "/diary/entries/void", body)


def _leaders(x: Ctx, where: str, action: str) -> Request:
    """A new department and official, so each appointment (or relief) is a first."""
    c = x.commune(where)
    unit = x.department(c)
    official = x.official(c, unit)
    if action == "relieve":
        x.ledger.appoint_leader(c.admin, unit_id=unit, post=Post.HEAD, official_id=official, on=date(2026, 3, 2))
        body = {"post": "head", "official_id": str(official), "on": "2026-03-09",
                "reason": "Quyết định điều động số 15/QĐ-UBND"}
    else:
        body = {"post": "head", "official_id": str(official), "on": "2026-03-02"}
    return Request("POST", f"/units/{unit}/leaders/{action}", body)


def _diary(kind: str) -> Make:
    return lambda x, r, w: Request("GET", f"/officials/{_member(x, w)}/diary/{kind}?start=2026-03-02&end=2026-03-16")


def _cycle_path(x: Ctx, where: str, suffix: str) -> str:
    return f"/cycles/{x.commune(where).cycle_id}{suffix}"


def _member(x: Ctx, where: str) -> UUID:
    return x.commune(where).member.official_id


ROUTES = [
    # ---------------------------------------------------------------- organisation
    Route("POST /units", frozenset({"admin"}), lambda x, r, w: Request("POST", "/units", {
        "code": x.code(), "name": "Phòng Tư pháp", "kind": "department", "parent_id": str(x.commune(w).commune_id)})),
    Route("POST /units (province)", frozenset({"admin"}), lambda x, r, w: Request("POST", "/units", {
        "code": x.code(), "name": "Tỉnh Lạng Sơn", "kind": "province"}), wide=True),
    Route("POST /officials", frozenset({"admin"}), lambda x, r, w: Request("POST", "/officials", {
        "code": x.code(), "full_name": "Mai Thị Hoa", "position": "Chuyên viên",
        "unit_id": str(x.commune(w).economy_id), "staff_category": "công chức", "post_group": "chuyên viên",
        "on": "2026-01-05"})),
    Route("POST /officials/{id}/transfer", frozenset({"admin"}), lambda x, r, w: Request(
        "POST", f"/officials/{x.official(x.commune(w), x.commune(w).economy_id)}/transfer",
        {"unit_id": str(x.commune(w).culture_id), "position": "Chuyên viên", "post_group": "chuyên viên",
         "on": "2026-03-02"})),
    Route("POST /units/{id}/leaders/appoint", frozenset({"admin"}), lambda x, r, w: _leaders(x, w, "appoint")),
    Route("POST /units/{id}/leaders/relieve", frozenset({"admin"}), lambda x, r, w: _leaders(x, w, "relieve")),
    # ------------------------------------------------------------ policy, cycles
    Route("POST /policies", frozenset({"admin"}), lambda x, r, w: Request("POST", "/policies", {
        "version": f"v-{x.code()}", "effective_from": "2030-01-01"}), wide=True),
    Route("POST /cycles", frozenset({"admin", "monitoring"}), lambda x, r, w: (lambda m: Request("POST", "/cycles", {
        "unit_id": str(x.commune(w).commune_id), "kind": "month",
        "starts_on": date(2026 + (m - 1) // 12, (m - 1) % 12 + 1, 1).isoformat(),
        "ends_on": date(2026 + (m - 1) // 12, (m - 1) % 12 + 1, 28).isoformat()}))(next(x.months))),
    Route("POST /cycles/{id}/close", frozenset({"admin", "monitoring"}), lambda x, r, w: (
        lambda cycle: Request("POST", f"/cycles/{cycle[0]}/close", {"on": cycle[1].isoformat()}))(
        x.month_cycle(x.commune(w)))),
    Route("POST /cycles/{id}/reopen", frozenset({"admin", "appeals"}), lambda x, r, w: Request(
        "POST", f"/cycles/{x.month_cycle(x.commune(w), close=True)[0]}/reopen",
        {"reason": "Quyết định giải quyết khiếu nại số 3/QĐ-HĐ", "on": "2026-11-02"})),
    # ---------------------------------------------------------------------- tasks
    Route("POST /tasks", frozenset({"unit_head"}), lambda x, r, w: Request("POST", "/tasks", {
        "cycle_id": str(x.commune(w).cycle_id), "assignee_id": str(_member(x, w)),
        "title": "Tổng hợp báo cáo kinh tế - xã hội quý I", "kind": "hard", "product": "Báo cáo",
        "target_quantity": 1, "due_on": "2026-03-13", "on": "2026-03-09", "authority": "Chủ tịch UBND xã giao"})),
    Route("POST /tasks/{id}/reassign", frozenset({"unit_head"}), lambda x, r, w: Request(
        "POST", f"/tasks/{x.task(x.commune(w), by=x.commune(w).chairman)}/reassign",
        {"assignee_id": str(x.commune(w).colleague.official_id), "reason": "Đồng chí Dung đi học",
         "on": "2026-03-09"})),
    Route("POST /tasks/{id}/submit", frozenset({"official", "unit_head"}), _submit),
    Route("POST /tasks/{id}/approve", frozenset({"unit_head"}), lambda x, r, w: Request(
        "POST", f"/tasks/{x.task(x.commune(w), by=x.commune(w).chairman, submit=True)}/approve",
        {"major_errors": 0, "comment": "Đạt"})),
    Route("POST /tasks/{id}/return", frozenset({"unit_head"}), lambda x, r, w: Request(
        "POST", f"/tasks/{x.task(x.commune(w), by=x.commune(w).chairman, submit=True)}/return",
        {"comment": "Thiếu số liệu thôn Bắc", "major_errors": 1})),
    Route("POST /tasks/{id}/objective-cause", frozenset({"unit_head"}), _objective_cause),
    Route("POST /deadlines/record", frozenset({"admin"}), lambda x, r, w: Request(
        "POST", "/deadlines/record", {"as_of": TODAY.isoformat()}), wide=True),
    # ---------------------------------------------------------------------- diary
    # Out of scope here is another commune's cycle: the diary is always one's own, so the
    # Ledger refuses it as input (the official is not in that cycle), not as authority.
    Route("POST /diary/entries", frozenset({"official", "unit_head"}), lambda x, r, w: Request(
        "POST", "/diary/entries", {"cycle_id": str(x.commune(w).cycle_id), "on": TODAY.isoformat(), "hours": "1",
                                   "duty": "Tiếp công dân", "description": "Tiếp 4 lượt công dân"}), out=422),
    Route("POST /diary/entries/void", frozenset({"official", "unit_head"}), _void),
    # ------------------------------------------------------------------ discipline
    Route("POST /sanctions", frozenset({"unit_head", "admin"}), lambda x, r, w: Request("POST", "/sanctions", {
        "official_id": str(_member(x, w)), "kind": "deduction", "criterion": "unexcused_training_absence",
        "reason": "Vắng tập huấn ngày 06/03", "on": "2026-03-06"})),
    Route("POST /sanctions/{id}/revoke", frozenset({"unit_head", "admin"}), lambda x, r, w: Request(
        "POST", f"/sanctions/{x.sanction(x.commune(w))}/revoke", {"reason": "Có giấy nằm viện", "on": "2026-03-09"})),
    Route("POST /conduct", frozenset({"unit_head"}), lambda x, r, w: Request("POST", "/conduct", {
        "official_id": str(_member(x, w)), "cycle_id": str(x.commune(w).cycle_id), "points": "14",
        "on": "2026-03-09"})),
    # --------------------------------------------------------------------- targets
    Route("POST /targets", frozenset({"admin"}), lambda x, r, w: Request("POST", "/targets", {
        "cycle_id": str(x.commune(w).cycle_id), "indicator": f"Chỉ tiêu {x.code()}", "target_value": "100",
        "measure": "hộ", "on": "2026-03-02"})),
    Route("POST /targets/{id}/results", frozenset({"monitoring", "unit_head"}), lambda x, r, w: Request(
        "POST", f"/targets/{x.target(x.commune(w))}/results", {"value": "90", "evidence": "Báo cáo thôn",
                                                               "on": "2026-03-09"})),
    # ----------------------------------------------------------------------- access
    Route("POST /access", frozenset({"admin"}), lambda x, r, w: Request("POST", "/access", {
        "official_id": str(_member(x, w)), "roles": ["official"]})),
    Route("POST /access/{id}/revoke", frozenset({"admin"}), lambda x, r, w: Request(
        "POST", f"/access/{x.grant(x.commune(w))}/revoke", {"reason": "Thôi việc"})),
    Route("GET /access", frozenset({"admin"}), lambda x, r, w: Request("GET", "/access"), out=None),
    Route("GET /access/me", EVERYONE, lambda x, r, w: Request("GET", "/access/me"), out=None),
    # ---------------------------------------------------------------------- reads
    Route("GET /cycles/{id}/scoreboard", READERS, lambda x, r, w: Request("GET", _cycle_path(x, w, "/scoreboard"))),
    Route("GET /cycles/{id}/units", READERS, lambda x, r, w: Request("GET", _cycle_path(x, w, "/units"))),
    Route("GET /cycles/{id}/scores/{official}", EVERYONE, lambda x, r, w: Request(
        "GET", _cycle_path(x, w, f"/scores/{_member(x, w)}"))),
    Route("GET /cycles/{id}/scores/{official}/lineage", EVERYONE, lambda x, r, w: Request(
        "GET", _cycle_path(x, w, f"/scores/{_member(x, w)}/lineage"))),
    Route("GET /approvals", EVERYONE, lambda x, r, w: Request(
        "GET", "/approvals" if w == "in" else f"/approvals?approver_id={x.w.b.economy_head.official_id}")),
    *(Route(f"GET /officials/{{id}}/diary/{kind}", EVERYONE, _diary(kind)) for kind in ("days", "weeks", "flags")),
    Route("GET /units/{id}/accountability", READERS, lambda x, r, w: Request(
        "GET", f"/units/{x.commune(w).commune_id}/accountability")),
    Route("GET /units/{id}/report", READERS, lambda x, r, w: Request(
        "GET", f"/units/{x.commune(w).commune_id}/report?month=2026-03")),
    Route("GET /cycles/{id}/replay", EVERYONE, lambda x, r, w: Request(
        "GET", _cycle_path(x, w, "/replay?position=40&policy=v1"))),
    Route("GET /cycles/{id}/diff", EVERYONE, lambda x, r, w: Request(
        "GET", _cycle_path(x, w, "/diff?a_position=40"))),
    Route("GET /cycles/{id}/amendments", EVERYONE, lambda x, r, w: Request(
        "GET", f"/cycles/{x.month_cycle(x.commune(w), close=True)[0]}/amendments")),
    Route("GET /events", frozenset({"admin", "inspector"}), lambda x, r, w: Request("GET", "/events?after=0&limit=5"),
          wide=True),
]


def expected(route: Route, role: str, where: str) -> int:
    if role not in route.allowed:
        return 403
    if where == "out" and route.out is not None:
        return route.out
    return 200


def token(route: Route, role: str, where: str) -> str:
    if route.wide and where == "in" and role in WIDE:
        return "wide_" + role
    return role


@pytest.fixture(scope="module")
def ctx(world: World) -> Ctx:
    """The province of each commune gets a head, who can assign the chairman a task."""
    for c in (world.a, world.b):
        head = official_id_for(c.code("BN-SNV-01"))
        world.ledger.appoint_leader(c.admin, unit_id=c.province_id, post=Post.HEAD, official_id=head,
                                    on=date(2026, 1, 5))
    return Ctx(world)


def test_every_route_answers_every_role_in_and_out_of_scope_as_the_rules_say(world: World, ctx: Ctx) -> None:
    app: Any = world.client.app
    documented = {(m.upper(), _shape(p)) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert documented == {(r.name.split()[0], _shape("/api/v1" + r.name.split()[1])) for r in ROUTES}

    wrong: list[str] = []
    refused: dict[tuple[str, str], Request] = {}  # a refusal touches nothing: one subject serves all
    for route in ROUTES:
        for role in ROLES:
            for where in ("in", "out") if route.out is not None or route.wide else ("in",):
                if expected(route, role, where) == 200:
                    request = route.make(ctx, role, where)
                else:
                    key = (route.name, where)
                    request = refused[key] if key in refused else refused.setdefault(key, route.make(ctx, role, where))
                before = world.head()
                response = world.call(token(route, role, where), request.method, request.path, request.json)
                want = expected(route, role, where)
                if response.status_code != want:
                    wrong.append(f"{route.name} as {role} {where} scope: {response.status_code} "
                                 f"(want {want}) {response.text[:200]}")
                if response.status_code >= 400:
                    assert set(response.json()) == {"error"}, route.name
                    if world.head() != before:
                        wrong.append(f"{route.name} as {role} {where} scope: refused but recorded something")
    assert not wrong, "\n".join(wrong)


def test_a_department_head_reads_only_the_department_in_the_communes_lists(world: World) -> None:
    a = world.a
    rows = world.call("dept_head", "GET", f"/cycles/{a.cycle_id}/scoreboard").json()["items"]
    assert rows and {r["unit_id"] for r in rows} == {str(a.economy_id)}
    units = world.call("dept_head", "GET", f"/cycles/{a.cycle_id}/units").json()["items"]
    assert [u["unit_id"] for u in units] == [str(a.economy_id)]
    report = world.call("dept_head", "GET", f"/units/{a.commune_id}/report?month=2026-03").json()
    assert [u["unit_id"] for u in report["units"]] == [str(a.economy_id)]
    culture = world.call("dept_head", "GET", f"/cycles/{a.cycle_id}/scores/{a.culture_member.official_id}")
    assert culture.status_code == 403
    assert culture.json()["error"]["field"] == "official_id"


def test_a_scoped_administrator_lists_only_the_grants_within_reach(world: World) -> None:
    mine = {g["access_id"] for g in world.call("admin", "GET", "/access?limit=1000").json()["items"]}
    everyone = {g["access_id"] for g in world.call("wide_admin", "GET", "/access?limit=1000").json()["items"]}
    assert str(world.access_ids["official"]) in mine
    assert str(world.access_ids["b_official"]) in everyone - mine
    assert str(world.access_ids["wide_inspector"]) not in mine  # a grant without a unit reaches beyond


def _shape(path: str) -> str:
    """/cycles/{cycle_id}/close and /cycles/{id}/close are the same route."""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))
