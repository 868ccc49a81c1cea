"""One error shape for every refusal: 401, 403, 404, 409, 422 (each bad field named), and the
framework's own 404/405 and unreadable bodies; a refused command records nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.access import AccessRole
from domain.tasks import KpiKind
from tests.api.conftest import World

UNKNOWN = UUID(int=7)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    detail: dict[str, Any] = body["error"]
    assert set(detail) == {"code", "field", "reason", "fields"}
    assert detail["code"] == code
    assert detail["fields"][0] == {"field": detail["field"], "reason": detail["reason"]}
    return detail


def test_no_token_a_foreign_scheme_or_an_unknown_token_is_401(world: World) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer kpi_khong-co-that"}):
        response = world.client.get("/api/v1/access/me", headers=headers)
        detail = error(response, 401, "unauthenticated")
        assert detail["field"] == "Authorization"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    token = world.grant("short_lived", world.a.colleague, [AccessRole.OFFICIAL], None)
    assert world.client.get("/api/v1/access/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revoked = world.call("admin", "POST", f"/access/{world.access_ids['short_lived']}/revoke",
                         {"reason": "Chuyển công tác sang xã khác"})
    assert revoked.status_code == 200
    detail = error(world.client.get("/api/v1/access/me", headers={"Authorization": f"Bearer {token}"}),
                   401, "unauthenticated")
    assert "revoked" in detail["reason"]
    again = world.call("admin", "POST", f"/access/{world.access_ids['short_lived']}/revoke", {"reason": "Lần nữa"})
    assert error(again, 409, "conflict")["field"] == "access_id"


def test_a_role_without_the_authority_is_403_naming_what_it_needs_and_records_nothing(world: World) -> None:
    head = world.head()
    response = world.call("official", "POST", "/cycles", {
        "unit_id": str(world.a.commune_id), "kind": "month", "starts_on": "2026-05-01", "ends_on": "2026-05-31"})
    detail = error(response, 403, "not_authorised")
    assert detail["field"] == "roles"
    assert "admin or monitoring" in detail["reason"]
    assert world.head() == head


def test_the_ledgers_own_6_ro_refusal_is_403_too(world: World) -> None:
    """The department head's token reaches Dung, but only her task's named approver approves it."""
    task = world.ledger.assign_task(
        world.a.chairman, cycle_id=world.a.cycle_id, assignee_id=world.a.member.official_id,
        title="Thống kê diện tích lúa vụ Đông Xuân", kind=KpiKind.HARD, product="Bảng thống kê", target_quantity=1,
        due_on=world.a.ends_on, on=world.a.starts_on, authority="Chủ tịch UBND xã giao",
    )
    world.call("official", "POST", f"/tasks/{task}/submit", {"quantity": 1})
    head = world.head()
    detail = error(world.call("dept_head", "POST", f"/tasks/{task}/approve", {}), 403, "not_authorised")
    assert detail["field"] == "actor"
    assert world.head() == head


def test_an_unknown_id_is_404_naming_the_parameter(world: World) -> None:
    approve = world.call("unit_head", "POST", f"/tasks/{UNKNOWN}/approve", {})
    assert error(approve, 404, "not_found")["field"] == "task_id"
    assert error(world.call("admin", "GET", f"/cycles/{UNKNOWN}/scoreboard"), 404, "not_found")["field"] == "cycle_id"
    assert error(world.call("admin", "GET", "/khong-co"), 404, "not_found")["field"] == "path"


def test_approving_an_approved_task_is_409(world: World) -> None:
    task = world.ledger.assign_task(
        world.a.chairman, cycle_id=world.a.cycle_id, assignee_id=world.a.member.official_id,
        title="Cập nhật cơ sở dữ liệu đất đai", kind=KpiKind.HARD, product="Dữ liệu", target_quantity=1,
        due_on=world.a.ends_on, on=world.a.starts_on, authority="Chủ tịch UBND xã giao",
    )
    world.call("official", "POST", f"/tasks/{task}/submit", {"quantity": 1})
    assert world.call("unit_head", "POST", f"/tasks/{task}/approve", {}).status_code == 200
    head = world.head()
    detail = error(world.call("unit_head", "POST", f"/tasks/{task}/approve", {}), 409, "conflict")
    assert detail["field"] == "task_id"
    assert world.head() == head


def test_invalid_input_names_each_bad_field_and_why(world: World) -> None:
    head = world.head()
    response = world.call("unit_head", "POST", "/tasks", {
        "cycle_id": "không-phải-uuid", "assignee_id": str(world.a.member.official_id), "title": "Việc",
        "kind": "rất gấp", "product": "Báo cáo", "target_quantity": 1, "due_on": "2026-02-30", "on": "2026-03-02",
        "authority": "Chủ tịch giao", "actor": {"official_id": str(world.a.admin.official_id), "role": "admin"},
    })
    detail = error(response, 422, "invalid_input")
    assert {f["field"] for f in detail["fields"]} == {"cycle_id", "kind", "due_on", "actor"}
    assert all(f["reason"] for f in detail["fields"])
    assert world.head() == head


def test_the_ledgers_own_invalid_input_has_the_same_shape(world: World) -> None:
    response = world.call("official", "POST", "/diary/entries", {
        "cycle_id": str(world.a.cycle_id), "on": "2026-03-04", "hours": "25", "duty": "Trực"})
    detail = error(response, 422, "invalid_input")
    assert detail["field"] == "hours"
    assert "24" in detail["reason"]


def test_bad_query_parameters_bodies_and_methods_share_the_shape(world: World) -> None:
    assert error(world.call("admin", "GET", "/access?limit=0"), 422, "invalid_input")["field"] == "limit"
    assert error(world.call("admin", "GET", "/access?after=khong-co"), 422, "invalid_input")["field"] == "after"
    unreadable = world.client.post("/api/v1/units", content=b"\xff\xfe{", headers={
        **world.auth("admin"), "Content-Type": "application/json"})
    error(unreadable, 422, "invalid_input")
    not_json = world.client.post("/api/v1/units", content=b"{code:", headers={
        **world.auth("admin"), "Content-Type": "application/json"})
    error(not_json, 422, "invalid_input")
    error(world.call("admin", "DELETE", "/units"), 405, "method_not_allowed")
    lineage = f"/cycles/{world.a.cycle_id}/scores/{world.a.member.official_id}/lineage"
    edge = world.call("official", "GET", lineage, params={"since": "0001-01-01T00:00:00+14:00"})
    assert error(edge, 422, "invalid_input")["field"] == "since"


def test_text_with_a_nul_character_is_refused_before_it_reaches_storage(world: World) -> None:
    response = world.call("official", "POST", "/diary/entries", {
        "cycle_id": str(world.a.cycle_id), "on": "2026-03-04", "hours": "1", "duty": "Trực\u0000"})
    assert error(response, 422, "invalid_input")["field"] == "duty"
