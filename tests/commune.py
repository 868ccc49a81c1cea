"""A small commune, built through Ledger commands only, for tests that need people and a cycle.

Xã Tân Lập (Tỉnh Bắc Ninh): a People's Committee chairman and a Party secretary, two
departments with a head and two or three members each, an admin (Sở Nội vụ) and a member of
the KPI monitoring team; scoring policy "v1" published; one 15-day cycle, 2 to 16 March 2026.
Ids derive from codes. `tag` prefixes every code (and `command_id`) so several communes can
share one ledger without colliding; policy "v1" is published once per ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.actors import Actor
from domain.cycles import CycleKind
from domain.errors import NotFound
from domain.ledger import Ledger
from domain.org import Post, UnitKind, official_id_for
from domain.policy import PolicyParams
from domain.roles import Role

ENROLLED_ON = date(2026, 1, 5)
POLICY_FROM = date(2026, 1, 1)
CYCLE_STARTS = date(2026, 3, 2)  # a Monday
CYCLE_ENDS = date(2026, 3, 16)


@dataclass(frozen=True)
class Commune:
    tag: str
    province_id: UUID
    commune_id: UUID
    economy_id: UUID  # Phòng Kinh tế
    culture_id: UUID  # Phòng Văn hóa - Xã hội
    admin: Actor
    monitoring: Actor
    chairman: Actor
    secretary: Actor
    economy_head: Actor
    economy_members: tuple[Actor, ...]
    culture_head: Actor
    culture_members: tuple[Actor, ...]
    cycle_id: UUID
    starts_on: date = CYCLE_STARTS
    ends_on: date = CYCLE_ENDS

    @property
    def member(self) -> Actor:
        """Phạm Thị Dung, chuyên viên of Phòng Kinh tế."""
        return self.economy_members[0]

    @property
    def colleague(self) -> Actor:
        """Hoàng Văn Em, her colleague in the same department."""
        return self.economy_members[1]

    @property
    def culture_member(self) -> Actor:
        """Bùi Văn Khánh, chuyên viên of Phòng Văn hóa - Xã hội."""
        return self.culture_members[0]

    def code(self, local: str) -> str:
        """A unit or official code of this commune (as given to the Ledger)."""
        return self.tag + local

    def command_id(self, local: str) -> str:
        """A command id no other commune in the same ledger uses."""
        return self.tag + local


def build_commune(ledger: Ledger, holidays: Sequence[date] = (), tag: str = "") -> Commune:
    """Record the commune; `holidays` go into policy v1's working-day calendar."""

    def official(code: str, role: Role = Role.OFFICIAL) -> Actor:
        return Actor(official_id=official_id_for(tag + code), role=role.value)

    a = official("BN-SNV-01", Role.ADMIN)
    province = ledger.register_unit(a, code=tag + "BN", name="Tỉnh Bắc Ninh", kind=UnitKind.PROVINCE)
    commune = ledger.register_unit(
        a, code=tag + "BN-TL", name="Xã Tân Lập", kind=UnitKind.COMMUNE, parent_id=province
    )
    economy = ledger.register_unit(
        a, code=tag + "BN-TL-KT", name="Phòng Kinh tế", kind=UnitKind.DEPARTMENT,
        parent_id=commune,
    )
    culture = ledger.register_unit(
        a, code=tag + "BN-TL-VHXH", name="Phòng Văn hóa - Xã hội", kind=UnitKind.DEPARTMENT,
        parent_id=commune,
    )

    def enrol(code: str, full_name: str, position: str, unit_id: UUID, group: str) -> Actor:
        staff = "cán bộ" if group == "lãnh đạo xã" else "công chức"
        ledger.enroll_official(
            a, code=tag + code, full_name=full_name, position=position, unit_id=unit_id,
            staff_category=staff, post_group=group, on=ENROLLED_ON,
        )
        return official(code)

    enrol("BN-SNV-01", "Đặng Văn Minh", "Chuyên viên Sở Nội vụ", province, "chuyên viên")
    monitoring = enrol("TL-09", "Phan Thị Ngọc", "Chuyên viên Văn phòng", commune, "chuyên viên")
    chairman = enrol("TL-01", "Nguyễn Văn An", "Chủ tịch UBND xã", commune, "lãnh đạo xã")
    secretary = enrol("TL-02", "Trần Thị Bình", "Bí thư Đảng ủy xã", commune, "lãnh đạo xã")
    economy_head = enrol("TL-KT-1", "Lê Văn Cường", "Trưởng phòng", economy, "lãnh đạo phòng")
    economy_members = tuple(
        enrol(code, name, "Chuyên viên", economy, "chuyên viên")
        for code, name in (("TL-KT-2", "Phạm Thị Dung"), ("TL-KT-3", "Hoàng Văn Em"),
                           ("TL-KT-4", "Vũ Thị Giang"))
    )
    culture_head = enrol("TL-VH-1", "Đỗ Thị Hạnh", "Trưởng phòng", culture, "lãnh đạo phòng")
    culture_members = tuple(
        enrol(code, name, "Chuyên viên", culture, "chuyên viên")
        for code, name in (("TL-VH-2", "Bùi Văn Khánh"), ("TL-VH-3", "Ngô Thị Lan"))
    )

    for unit, post, leader in (
        (commune, Post.CHAIRMAN, chairman),
        (commune, Post.SECRETARY, secretary),
        (economy, Post.HEAD, economy_head),
        (culture, Post.HEAD, culture_head),
    ):
        ledger.appoint_leader(a, unit_id=unit, post=post, official_id=leader.official_id, on=ENROLLED_ON)

    params = PolicyParams(holidays=tuple(holidays))
    try:
        published = ledger.policies().get("v1").params
    except NotFound:
        ledger.publish_policy(a, version="v1", effective_from=POLICY_FROM, params=params)
    else:
        if published != params:
            raise ValueError("policy v1 of this ledger has other holidays; use a fresh ledger")
    cycle = ledger.open_cycle(
        a, unit_id=commune, kind=CycleKind.FIFTEEN_DAYS, starts_on=CYCLE_STARTS, ends_on=CYCLE_ENDS
    )
    return Commune(
        tag=tag, province_id=province, commune_id=commune, economy_id=economy, culture_id=culture,
        admin=a, monitoring=Actor(monitoring.official_id, Role.MONITORING.value),
        chairman=chairman, secretary=secretary,
        economy_head=economy_head, economy_members=economy_members,
        culture_head=culture_head, culture_members=culture_members, cycle_id=cycle,
    )
