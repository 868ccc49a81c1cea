"""Idempotency-Key: a retried command records nothing new and answers as the first call did."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.auth import hash_token, new_token
from domain.tasks import KpiKind
from tests.api.conftest import TODAY, World


def _assign(world: World, title: str) -> dict[str, object]:
    return {"cycle_id": str(world.a.cycle_id), "assignee_id": str(world.a.member.official_id), "title": title,
            "kind": "hard", "product": "Báo cáo", "target_quantity": 2, "due_on": "2026-03-13",
            "on": "2026-03-09", "authority": "Chủ tịch UBND xã giao tại cuộc họp giao ban"}


def test_the_same_post_with_the_same_key_twice_gives_the_same_body_and_one_record(world: World) -> None:
    body = _assign(world, "Kiểm tra hồ sơ cấp phép xây dựng")
    headers = {"Idempotency-Key": "giao-viec-0309-01"}
    before = world.head()
    first = world.call("unit_head", "POST", "/tasks", body, headers=headers)
    after_first = world.head()
    second = world.call("unit_head", "POST", "/tasks", body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert after_first == before + 2  # the task and the command's receipt, in one transaction
    assert world.head() == after_first
    assert world.ledger.get_task(UUID(first.json()["result"])).title == "Kiểm tra hồ sơ cấp phép xây dựng"


def test_a_retried_diary_entry_keeps_its_entry_number_instead_of_logging_twice(world: World) -> None:
    body = {"cycle_id": str(world.a.cycle_id), "on": "2026-03-06", "hours": "2", "duty": "Tiếp công dân"}
    first = world.call("official", "POST", "/diary/entries", body, headers={"Idempotency-Key": "nk-0603"})
    head = world.head()
    second = world.call("official", "POST", "/diary/entries", body, headers={"Idempotency-Key": "nk-0603"})
    assert second.json() == first.json() == {"command": "log_work", "result": first.json()["result"]}
    assert world.head() == head


def test_reusing_a_key_for_a_different_command_is_a_conflict_naming_the_header(world: World) -> None:
    headers = {"Idempotency-Key": "giao-viec-0309-02"}
    assert world.call("unit_head", "POST", "/tasks", _assign(world, "Lập danh sách hộ nghèo"),
                      headers=headers).status_code == 200
    head = world.head()
    other = world.call("unit_head", "POST", "/tasks", _assign(world, "Một việc khác"), headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["field"] == "Idempotency-Key"
    assert world.head() == head


def test_two_officials_who_pick_the_same_key_do_not_meet(world: World) -> None:
    body = {"cycle_id": str(world.a.cycle_id), "on": "2026-03-05", "hours": "1", "duty": "Trực một cửa"}
    headers = {"Idempotency-Key": "sang-thu-5"}
    head = world.head()
    dung = world.call("official", "POST", "/diary/entries", body, headers=headers)
    chairman = world.call("unit_head", "POST", "/diary/entries", body, headers=headers)
    assert dung.status_code == chairman.status_code == 200
    assert world.head() == head + 6  # for each: the day's diary opened, the entry, the receipt


def test_a_retriable_grant_sends_the_hash_of_a_token_made_by_the_client(world: World) -> None:
    plain = {"official_id": str(world.a.colleague.official_id), "roles": ["official"]}
    refused = world.call("admin", "POST", "/access", plain, headers={"Idempotency-Key": "cap-quyen-1"})
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "token_sha256"

    token = new_token()
    body = {**plain, "token_sha256": hash_token(token)}
    first = world.call("admin", "POST", "/access", body, headers={"Idempotency-Key": "cap-quyen-1"})
    head = world.head()
    second = world.call("admin", "POST", "/access", body, headers={"Idempotency-Key": "cap-quyen-1"})
    assert first.status_code == 200 and first.json() == second.json()
    assert first.json()["token"] is None
    assert world.head() == head
    me = world.client.get("/api/v1/access/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["full_name"] == "Hoàng Văn Em"


def test_approvals_are_dated_by_the_server_not_the_caller(world: World) -> None:
    task = world.ledger.assign_task(
        world.a.chairman, cycle_id=world.a.cycle_id, assignee_id=world.a.member.official_id,
        title="Báo cáo tiến độ giải ngân", kind=KpiKind.HARD, product="Báo cáo", target_quantity=1,
        due_on=TODAY, on=TODAY, authority="Chủ tịch UBND xã giao",
    )
    assert world.call("official", "POST", f"/tasks/{task}/submit", {"quantity": 1}).status_code == 200
    backdated = world.call("unit_head", "POST", f"/tasks/{task}/approve", {"on": "2026-03-02"})
    assert backdated.status_code == 422
    assert backdated.json()["error"]["field"] == "on"
    assert world.call("unit_head", "POST", f"/tasks/{task}/approve", {}).status_code == 200
    events: list[Any] = list(world.ledger.events.get(task))
    assert [type(e).__name__ for e in events][-2:] == ["TaskSubmitted", "TaskApproved"]
    assert events[-1].occurred_on == events[-2].occurred_on == TODAY
    assert events[-1].actor.official_id == world.a.chairman.official_id
    assert events[-1].actor.role == "official"  # a unit head acts as an official the Ledger checks
