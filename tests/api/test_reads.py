"""Reads answer from the projections, caught up with the log first, and page through long lists."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from domain.tasks import KpiKind
from tests.api.conftest import World


def pages(world: World, who: str, path: str, limit: int) -> list[list[dict[str, Any]]]:
    out, after = [], None
    while True:
        sep = "&" if "?" in path else "?"
        query = f"{sep}limit={limit}" + (f"&after={after}" if after else "")
        body = world.call(who, "GET", path + query).json()
        out.append(body["items"])
        after = body["next"]
        if after is None:
            return out


def test_a_scoreboard_read_in_pages_is_the_whole_scoreboard_once(world: World) -> None:
    path = f"/cycles/{world.a.cycle_id}/scoreboard"
    whole = world.call("monitoring", "GET", path).json()["items"]
    paged = pages(world, "monitoring", path, 3)
    assert len(whole) == 10  # everyone of Xã Tân Lập, and nobody of the other commune
    assert [len(p) for p in paged] == [3, 3, 3, 1]
    assert [r["official_id"] for p in paged for r in p] == [r["official_id"] for r in whole]


def test_what_was_just_recorded_is_read_back_at_once(world: World) -> None:
    """No waiting for a projection worker: the read catches the views up first."""
    official = world.a.member.official_id
    logged = world.call("official", "POST", "/diary/entries", {
        "cycle_id": str(world.a.cycle_id), "on": "2026-03-03", "hours": "3.5", "duty": "Trực bộ phận một cửa",
        "products": 7, "description": "Tiếp nhận 7 hồ sơ đăng ký kinh doanh"})
    assert logged.status_code == 200
    days = world.call("official", "GET", f"/officials/{official}/diary/days?start=2026-03-02&end=2026-03-08")
    [day] = [d for d in days.json()["items"] if d["day"] == "2026-03-03"]
    assert day["hours"] == "3.5" and day["products"] == 7
    assert day["entries"] == [{"what": "Trực bộ phận một cửa", "description": "Tiếp nhận 7 hồ sơ đăng ký kinh doanh",
                               "hours": "3.5"}]
    weeks = world.call("unit_head", "GET", f"/officials/{official}/diary/weeks?start=2026-03-02&end=2026-03-08")
    assert weeks.json()["items"] == [{"week": "2026-W10", "hours": "3.5"}]


def test_lineage_since_a_moment_shows_only_what_changed_after_it(world: World) -> None:
    official = world.a.colleague.official_id
    path = f"/cycles/{world.a.cycle_id}/scores/{official}/lineage"
    before = world.call("unit_head", "GET", path).json()["items"]
    time.sleep(0.01)  # recording times are compared, so the moment must fall between two events
    moment = datetime.now(UTC)
    sanction = world.call("unit_head", "POST", "/sanctions", {
        "official_id": str(official), "kind": "deduction", "criterion": "unexcused_training_absence",
        "reason": "Vắng lớp bồi dưỡng chuyên môn ngày 04/03", "on": "2026-03-04"})
    assert sanction.status_code == 200
    since = world.call("unit_head", "GET", path, params={"since": moment.isoformat()}).json()["items"]
    until = world.call("unit_head", "GET", path, params={"until": moment.isoformat()}).json()["items"]
    assert [line["event_type"] for line in since] == ["SanctionImposed"]
    assert since[0]["delta"] == "-2.00" and since[0]["component"] == "discipline"
    # Lines that no event caused (conduct not yet assessed counts as full) have no recording time.
    assert [line["event_id"] for line in until] == [line["event_id"] for line in before if line["event_id"]]
    score = world.call("official", "GET", f"/cycles/{world.a.cycle_id}/scores/{world.a.member.official_id}")
    assert score.status_code == 200 and score.json()["full_name"] == "Phạm Thị Dung"


def test_an_approver_sees_a_submission_in_the_queue_with_its_deadline(world: World) -> None:
    task = world.ledger.assign_task(
        world.a.economy_head, cycle_id=world.a.cycle_id, assignee_id=world.a.colleague.official_id,
        title="Kiểm kê tài sản công", kind=KpiKind.HARD, product="Biên bản kiểm kê", target_quantity=1,
        due_on=world.a.ends_on, on=world.a.starts_on, authority="Trưởng phòng Kinh tế giao",
    )
    world.ledger.submit_task(world.a.colleague, task_id=task, quantity=1, on=world.a.starts_on)
    mine = world.call("dept_head", "GET", f"/approvals?approver_id={world.a.economy_head.official_id}").json()
    [item] = [a for a in mine["items"] if a["task_id"] == str(task)]
    assert item["submitted_on"] == "2026-03-02" and item["deadline"] == "2026-03-09"
    assert item["overdue"] is False  # 9 March is the deadline's own day
    later = world.call("dept_head", "GET", f"/approvals?approver_id={world.a.economy_head.official_id}"
                       "&as_of=2026-03-10").json()
    assert [a["overdue"] for a in later["items"] if a["task_id"] == str(task)] == [True]


def test_the_event_feed_follows_the_whole_log_by_position(world: World) -> None:
    head = world.head()
    seen: list[int] = []
    after = 0
    while True:
        body = world.call("wide_inspector", "GET", f"/events?after={after}&limit=40").json()
        seen += [item["id"] for item in body["items"]]
        if not body["items"]:
            break
        after = body["next_after"]
    assert seen == sorted(seen) and seen[-1] >= head
    first = world.call("wide_admin", "GET", "/events?after=0&limit=1").json()["items"][0]
    assert first["topic"] == "domain.org:Unit.UnitRegistered"
    assert first["event"]["name"] == "Tỉnh Bắc Ninh"
    assert first["event"]["actor"] == {"official_id": str(world.a.admin.official_id), "role": "admin"}
    scoped = world.call("inspector", "GET", "/events?after=0")
    assert scoped.status_code == 403 and scoped.json()["error"]["field"] == "after"


def test_the_monthly_report_and_accountability_answer_for_the_commune(world: World) -> None:
    report = world.call("monitoring", "GET", f"/units/{world.a.commune_id}/report?month=2026-03").json()
    assert report["month"] == "2026-03"
    assert {u["unit_name"] for u in report["units"]} >= {"Xã Tân Lập", "Phòng Kinh tế", "Phòng Văn hóa - Xã hội"}
    tenures = world.call("inspector", "GET", f"/units/{world.a.commune_id}/accountability").json()["items"]
    assert {t["full_name"] for t in tenures} == {"Nguyễn Văn An", "Trần Thị Bình"}  # chairman and secretary


def test_a_replay_before_a_sanction_does_not_count_it_and_the_diff_names_it(world: World) -> None:
    lan = world.a.culture_members[1].official_id  # Ngô Thị Lan, Phòng Văn hóa - Xã hội
    cycle = world.a.cycle_id
    before = world.head()
    imposed = world.call("unit_head", "POST", "/sanctions", {
        "official_id": str(lan), "kind": "deduction", "criterion": "unexcused_training_absence",
        "reason": "Vắng tập huấn phần mềm một cửa ngày 03/03", "on": "2026-03-03"})
    assert imposed.status_code == 200

    def total(query: str) -> str:
        body = world.call("appeals", "GET", f"/cycles/{cycle}/replay?official_id={lan}{query}").json()
        [row] = body["rows"]
        return str(row["total"])

    then, now = total(f"&position={before}"), total("")
    assert float(then) - float(now) == 2
    what_if = total(f"&without={imposed_event(world, lan)}")
    assert what_if == then

    changes = world.call("inspector", "GET", f"/cycles/{cycle}/diff?a_position={before}").json()["changes"]
    [change] = [c for c in changes if c["official_id"] == str(lan)]
    assert change["delta"] == "-2.00"
    assert [line["event_type"] for line in change["added"]] == ["SanctionImposed"]

    rows = world.call("dept_head", "GET", f"/cycles/{cycle}/replay").json()["rows"]
    assert rows and {r["unit_id"] for r in rows} == {str(world.a.economy_id)}


def imposed_event(world: World, official: object) -> str:
    lines = world.call("appeals", "GET", f"/cycles/{world.a.cycle_id}/scores/{official}/lineage").json()["items"]
    return str([line["event_id"] for line in lines if line["event_type"] == "SanctionImposed"][-1])
