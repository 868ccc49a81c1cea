"""Roles an actor may claim. The API authenticates the claim; the Ledger checks it.

Leadership authority (who may assign and approve) is not a role: it follows from the
appointments recorded on units, so it is as accountable as everything else.
"""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    OFFICIAL = "official"
    ADMIN = "admin"  # tổ chức cán bộ / Phòng Nội vụ: organisation, policy, cycles
    MONITORING = "monitoring"  # tổ công tác theo dõi KPI
    INSPECTOR = "inspector"
    APPEALS = "appeals"
    SYSTEM = "system"  # the deadline watcher
