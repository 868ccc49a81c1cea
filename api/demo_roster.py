"""The people and the work of the demo commune (Xã Cam Lộ, Tỉnh Quảng Trị), as plain data.

Kept apart from `api/demo_commune.py`, which records it through Ledger commands, so the story
can be read (and changed) without reading the recording code. Every name is invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.tasks import KpiKind

HARD, SPEARHEAD, SOFT = KpiKind.HARD, KpiKind.SPEARHEAD, KpiKind.SOFT

CB, CC, VC = "cán bộ", "công chức", "viên chức"
LEADERS, SPECIALISTS, EMPLOYEES = "lãnh đạo", "công chức chuyên môn", "viên chức"


def d(day: int) -> date:
    """A day of March 2026, the month of the demo cycle."""
    return date(2026, 3, day)


CYCLE_STARTS, CYCLE_ENDS = d(2), d(16)  # a 15-day cycle: Mon 2 March .. Mon 16 March
ENROLLED_ON = date(2025, 7, 1)  # the two-tier local government took office


@dataclass(frozen=True)
class UnitPlan:
    code: str
    name: str
    head_title: str = ""


PROVINCE = UnitPlan("QT", "Tỉnh Quảng Trị")
HOME_AFFAIRS = UnitPlan("QT-SNV", "Sở Nội vụ tỉnh Quảng Trị")
COMMUNE = UnitPlan("QT-CAMLO", "Xã Cam Lộ")
OFFICE = UnitPlan("QT-CAMLO-VP", "Văn phòng HĐND-UBND", "Chánh Văn phòng")
ECONOMY = UnitPlan("QT-CAMLO-KT", "Phòng Kinh tế", "Trưởng phòng")
SOCIETY = UnitPlan("QT-CAMLO-VHXH", "Phòng Văn hóa - Xã hội", "Trưởng phòng")
SERVICE = UnitPlan("QT-CAMLO-TTPVHCC", "Trung tâm Phục vụ hành chính công", "Giám đốc Trung tâm")
DEPARTMENTS = (OFFICE, ECONOMY, SOCIETY, SERVICE)


@dataclass(frozen=True)
class Person:
    code: str
    full_name: str
    position: str
    unit: UnitPlan
    staff_category: str
    post_group: str
    conduct: Decimal = Decimal(15)  # the soft criterion, as the unit head will assess it


P = Person
ADMIN = P("QT-SNV-017", "Lê Thị Thanh Hương", "Chuyên viên Phòng Công chức, viên chức",
          HOME_AFFAIRS, CC, SPECIALISTS)
GOVERNOR = P("QT-UBND-001", "Hồ Sĩ Nguyên", "Chủ tịch UBND tỉnh", PROVINCE, CB, LEADERS)
SECRETARY = P("CL-001", "Trương Công Lực", "Bí thư Đảng ủy xã", COMMUNE, CB, LEADERS, Decimal(15))
CHAIRMAN = P("CL-002", "Nguyễn Đình Khánh", "Chủ tịch UBND xã", COMMUNE, CB, LEADERS, Decimal(14))

COMMUNE_STAFF = (
    SECRETARY,
    CHAIRMAN,
    P("CL-003", "Lê Thị Kim Oanh", "Phó Chủ tịch UBND xã", COMMUNE, CB, LEADERS, Decimal(14)),
    P("CL-004", "Phan Văn Thuận", "Phó Chủ tịch UBND xã", COMMUNE, CB, LEADERS, Decimal(14)),
    # Văn phòng HĐND-UBND
    P("CL-010", "Trần Thị Minh Thu", "Chánh Văn phòng", OFFICE, CC, LEADERS, Decimal(14)),
    P("CL-011", "Đặng Quang Huy", "Chuyên viên tổng hợp", OFFICE, CC, SPECIALISTS, Decimal(15)),
    P("CL-012", "Bùi Thị Ngọc Ánh", "Công chức Tư pháp - Hộ tịch", OFFICE, CC, SPECIALISTS,
      Decimal(14)),
    P("CL-013", "Đỗ Thị Hồng Nhung", "Văn thư - Lưu trữ", OFFICE, CC, SPECIALISTS, Decimal(13)),
    P("CL-014", "Ngô Thị Lan", "Kế toán", OFFICE, CC, SPECIALISTS, Decimal(13)),
    P("CL-015", "Dương Văn Hải", "Chuyên viên pháp chế", OFFICE, CC, SPECIALISTS, Decimal(14)),
    P("CL-016", "Phạm Thị Thu Hà", "Chuyên viên Nội vụ", OFFICE, CC, SPECIALISTS, Decimal(15)),
    P("CL-017", "Hồ Văn Nam", "Chuyên viên Thi đua - Khen thưởng", OFFICE, CC, SPECIALISTS,
      Decimal(14)),
    # Phòng Kinh tế
    P("CL-020", "Lê Văn Hùng", "Trưởng phòng Kinh tế", ECONOMY, CC, LEADERS, Decimal(13)),
    P("CL-021", "Nguyễn Văn Tài", "Công chức Địa chính - Xây dựng", ECONOMY, CC, SPECIALISTS,
      Decimal(14)),
    P("CL-022", "Võ Thị Mỹ Linh", "Công chức Địa chính - Nông nghiệp - Môi trường", ECONOMY, CC,
      SPECIALISTS, Decimal(13)),
    P("CL-023", "Trần Văn Đức", "Công chức Tài chính - Kế toán", ECONOMY, CC, SPECIALISTS,
      Decimal(13)),
    P("CL-024", "Hoàng Thị Thảo", "Chuyên viên Kế hoạch - Đầu tư", ECONOMY, CC, SPECIALISTS,
      Decimal(15)),
    P("CL-025", "Phạm Văn Toàn", "Chuyên viên Nông nghiệp", ECONOMY, CC, SPECIALISTS, Decimal(14)),
    P("CL-026", "Lê Quang Vinh", "Chuyên viên Xây dựng - Giao thông", ECONOMY, CC, SPECIALISTS,
      Decimal(13)),
    P("CL-027", "Đặng Thị Phương", "Chuyên viên Tài nguyên - Môi trường", ECONOMY, CC,
      SPECIALISTS, Decimal(15)),
    # Phòng Văn hóa - Xã hội
    P("CL-030", "Nguyễn Thị Bích Ngọc", "Trưởng phòng Văn hóa - Xã hội", SOCIETY, CC, LEADERS,
      Decimal(14)),
    P("CL-031", "Bùi Văn Sơn", "Công chức Văn hóa - Thông tin", SOCIETY, CC, SPECIALISTS,
      Decimal(13)),
    P("CL-032", "Trần Thị Hoa", "Chuyên viên Lao động - Xã hội", SOCIETY, CC, SPECIALISTS,
      Decimal(15)),
    P("CL-033", "Lê Thị Mai", "Chuyên viên Giáo dục", SOCIETY, CC, SPECIALISTS, Decimal(14)),
    P("CL-034", "Hồ Thị Thanh Tâm", "Chuyên viên Y tế", SOCIETY, CC, SPECIALISTS, Decimal(14)),
    P("CL-035", "Ngô Văn Bình", "Chuyên viên Dân tộc - Tôn giáo", SOCIETY, CC, SPECIALISTS,
      Decimal(12)),
    P("CL-036", "Dương Thị Yến", "Chuyên viên Văn hóa - Thể thao", SOCIETY, CC, SPECIALISTS,
      Decimal(14)),
    # Trung tâm Phục vụ hành chính công
    P("CL-040", "Phạm Minh Tuấn", "Giám đốc Trung tâm", SERVICE, CC, LEADERS, Decimal(13)),
    P("CL-041", "Võ Thị Thu Trang", "Viên chức tiếp nhận và trả kết quả", SERVICE, VC, EMPLOYEES,
      Decimal(14)),
    P("CL-042", "Nguyễn Thị Hằng", "Viên chức tiếp nhận hồ sơ đất đai", SERVICE, VC, EMPLOYEES,
      Decimal(13)),
    P("CL-043", "Đỗ Văn Long", "Viên chức tiếp nhận hồ sơ tư pháp", SERVICE, VC, EMPLOYEES,
      Decimal(13)),
    P("CL-044", "Trần Minh Khoa", "Viên chức công nghệ thông tin", SERVICE, VC, EMPLOYEES,
      Decimal(15)),
    P("CL-045", "Lê Thị Diệu", "Viên chức hướng dẫn thủ tục", SERVICE, VC, EMPLOYEES, Decimal(14)),
    P("CL-046", "Hoàng Anh Dũng", "Viên chức số hóa hồ sơ", SERVICE, VC, EMPLOYEES, Decimal(14)),
)
HEADS = {OFFICE.code: "CL-010", ECONOMY.code: "CL-020", SOCIETY.code: "CL-030",
         SERVICE.code: "CL-040"}
MONITOR = "CL-011"  # member of the commune's tổ công tác theo dõi KPI
PADDED_DIARY = "CL-041"  # the same 8-hour entry every day, for the diary checks
TRAINING_ABSENTEE = "CL-035"
LAPSED_APPROVER = "CL-020"  # lets one submission lapse: the official the demo explains
NO_TASK = "CL-046"


@dataclass(frozen=True)
class Return:
    on: date
    comment: str
    resubmitted_on: date
    major_errors: int = 0


@dataclass(frozen=True)
class TaskPlan:
    """One task under "6 rõ" and what became of it. `approved_on=None` leaves it awaiting the
    approver; `submitted_on=None` leaves it unsubmitted."""

    assignee: str
    kind: KpiKind
    title: str
    product: str
    quantity: int
    due_on: date
    submitted_on: date | None
    approved_on: date | None
    delivered: int | None = None  # default: the full quantity
    major_errors: int = 0
    comment: str = ""
    returned: Return | None = None
    weight: Decimal = Decimal(1)


T = TaskPlan
TASKS = (
    # Commune leaders: assigned and approved by the province.
    T("CL-002", SPEARHEAD, "Chỉ đạo giải quyết dứt điểm hồ sơ đất đai tồn đọng",
      "Hồ sơ đất đai tồn đọng được giải quyết", 20, d(13), d(13), d(16), delivered=17),
    T("CL-002", HARD, "Chủ trì hội nghị đối thoại với Nhân dân về cải cách thủ tục hành chính",
      "Biên bản hội nghị đối thoại", 1, d(11), d(11), d(13)),
    T("CL-001", HARD, "Chỉ đạo xây dựng Nghị quyết chuyên đề về chuyển đổi số cấp xã",
      "Nghị quyết chuyên đề của Đảng ủy xã", 1, d(13), d(12), d(16)),
    T("CL-001", HARD, "Kiểm tra việc thực hiện KPI tại các phòng chuyên môn",
      "Báo cáo kết quả kiểm tra", 4, d(13), d(13), d(16), delivered=3),
    # Deputies and unit heads: assigned and approved by the chairman.
    T("CL-003", HARD, "Chỉ đạo rà soát hộ nghèo, hộ cận nghèo quý I/2026",
      "Báo cáo kết quả rà soát", 1, d(12), d(12), d(16),
      returned=Return(d(13), "Bổ sung số liệu hộ cận nghèo thoát nghèo bền vững", d(13))),
    T("CL-003", SOFT, "Tiếp công dân định kỳ theo lịch", "Buổi tiếp công dân", 2, d(12), d(12),
      d(13)),
    T("CL-004", SPEARHEAD, "Chỉ đạo đôn đốc thu ngân sách nhà nước trên địa bàn",
      "Báo cáo tiến độ thu ngân sách", 2, d(13), d(13), d(16), delivered=1),
    T("CL-004", HARD, "Kiểm tra công trình đường giao thông nông thôn thôn Tân Xuân",
      "Biên bản kiểm tra hiện trường", 3, d(11), d(11), d(12), major_errors=1,
      comment="Biên bản thiếu ý kiến của đơn vị tư vấn giám sát"),
    T("CL-010", HARD, "Tham mưu Chương trình công tác tháng 3/2026 của UBND xã",
      "Chương trình công tác được ban hành", 1, d(4), d(4), d(5), major_errors=1,
      comment="Chưa lồng ghép lịch tiếp công dân của lãnh đạo"),
    T("CL-010", HARD, "Tổng hợp báo cáo kết quả thực hiện KPI kỳ 1 tháng 3/2026",
      "Báo cáo tổng hợp KPI gửi tỉnh", 1, d(16), d(16), d(16)),
    T("CL-020", SPEARHEAD, "Tham mưu kế hoạch thu ngân sách nhà nước năm 2026",
      "Kế hoạch thu ngân sách trình UBND xã", 1, d(6), d(6), d(9), major_errors=1,
      comment="Dự báo nguồn thu từ đất chưa có căn cứ"),
    T("CL-020", HARD, "Thẩm định hồ sơ cấp giấy phép xây dựng nhà ở riêng lẻ",
      "Hồ sơ được thẩm định", 8, d(13), d(13), d(16), delivered=6),
    T("CL-030", HARD, "Tham mưu kế hoạch rà soát hộ nghèo, hộ cận nghèo",
      "Kế hoạch rà soát được phê duyệt", 1, d(5), d(9), d(10)),  # two working days late
    T("CL-030", SPEARHEAD, "Chi trả trợ cấp xã hội không dùng tiền mặt",
      "Đối tượng nhận trợ cấp qua tài khoản", 150, d(13), d(13), d(16), delivered=138),
    T("CL-040", SPEARHEAD, "Nâng tỷ lệ hồ sơ nộp trực tuyến toàn trình",
      "Hồ sơ trực tuyến toàn trình", 120, d(13), d(13), d(16), delivered=131),
    T("CL-040", HARD, "Rà soát quy trình nội bộ giải quyết thủ tục hành chính",
      "Bộ quy trình nội bộ được cập nhật", 1, d(9), d(9), d(10), major_errors=1,
      comment="Còn 3 quy trình chưa cập nhật theo Quyết định công bố TTHC mới"),
    # Văn phòng HĐND-UBND: assigned and approved by the Chánh Văn phòng.
    T("CL-011", HARD, "Xây dựng dự thảo báo cáo kinh tế - xã hội tháng 3/2026",
      "Dự thảo báo cáo", 1, d(13), d(12), d(13)),
    T("CL-011", HARD, "Cập nhật số liệu chỉ tiêu phát triển của xã trên hệ thống theo dõi KPI",
      "Bảng số liệu cập nhật", 4, d(13), d(13), d(16)),
    T("CL-012", SPEARHEAD, "Giải quyết hồ sơ đăng ký khai sinh, kết hôn, khai tử đúng hạn",
      "Hồ sơ hộ tịch được giải quyết", 40, d(13), d(13), d(16)),
    T("CL-012", HARD, "Chứng thực bản sao từ bản chính, chứng thực chữ ký",
      "Việc chứng thực", 120, d(13), d(13), d(16), delivered=104),
    T("CL-013", HARD, "Số hóa văn bản đi, đến năm 2025", "Văn bản được số hóa", 300, d(13), d(13),
      d(16), delivered=262, major_errors=1, comment="Nhiều văn bản nhập sai trích yếu, số ký hiệu"),
    T("CL-013", SOFT, "Sắp xếp lại kho lưu trữ cơ quan", "Kho lưu trữ được sắp xếp", 1, d(11),
      d(11), d(12)),
    T("CL-014", HARD, "Lập báo cáo quyết toán kinh phí quý IV/2025",
      "Báo cáo quyết toán", 1, d(4), d(12), d(13)),  # six working days late
    T("CL-014", HARD, "Đối chiếu số dư tài khoản tiền gửi tại Kho bạc",
      "Biên bản đối chiếu", 1, d(6), d(6), d(9), major_errors=1,
      comment="Chênh lệch số dư chưa được giải trình"),
    T("CL-015", HARD, "Rà soát văn bản quy phạm pháp luật do HĐND, UBND xã ban hành",
      "Báo cáo kết quả rà soát", 1, d(11), d(11), d(16),
      returned=Return(d(12), "Chưa đối chiếu với các văn bản của tỉnh ban hành sau ngày 01/7/2025",
                      d(13), major_errors=1)),
    T("CL-016", HARD, "Cập nhật hồ sơ cán bộ, công chức trên Cơ sở dữ liệu quốc gia",
      "Hồ sơ được cập nhật", 34, d(13), d(13), d(16)),
    T("CL-016", SOFT, "Chuẩn bị hội nghị cán bộ, công chức xã", "Tài liệu hội nghị", 1, d(6),
      d(6), d(9)),
    T("CL-017", HARD, "Theo dõi, tổng hợp phong trào thi đua tháng 3", "Báo cáo phong trào thi đua",
      1, d(9), d(9), d(10), major_errors=1, comment="Thiếu số liệu của Phòng Kinh tế"),
    T("CL-017", HARD, "Tổng hợp hồ sơ đề nghị khen thưởng thành tích đột xuất",
      "Tờ trình khen thưởng", 1, d(16), d(16), None),  # submitted on the last day, awaiting
    # Phòng Kinh tế: assigned and approved by its Trưởng phòng.
    T("CL-021", SPEARHEAD, "Giải quyết hồ sơ đăng ký đất đai tồn đọng",
      "Hồ sơ đất đai được giải quyết", 15, d(5), d(5), None),  # left unapproved: lapses
    T("CL-021", HARD, "Kiểm tra, xử lý vi phạm trật tự xây dựng", "Biên bản kiểm tra", 4, d(11),
      d(11), d(13), delivered=3),
    T("CL-022", HARD, "Thống kê diện tích gieo trồng vụ Đông Xuân 2025-2026",
      "Báo cáo thống kê", 1, d(6), d(6), d(9), major_errors=2,
      comment="Số liệu thôn Phú Bình không khớp với báo cáo của thôn"),
    T("CL-022", HARD, "Hướng dẫn hồ sơ hỗ trợ chuyển đổi cơ cấu cây trồng",
      "Hồ sơ được hướng dẫn", 12, d(13), d(13), d(16), delivered=10),
    T("CL-023", SPEARHEAD, "Đôn đốc thu thuế sử dụng đất phi nông nghiệp",
      "Thông báo thuế được giao", 200, d(13), d(13), d(16), delivered=164),
    T("CL-023", HARD, "Lập dự toán chi thường xuyên quý II/2026", "Dự toán chi", 1, d(5), d(13),
      d(16), major_errors=1, comment="Chưa tách nguồn cải cách tiền lương"),  # 6 days late
    T("CL-024", HARD, "Cập nhật danh mục dự án đầu tư công trung hạn",
      "Danh mục dự án được cập nhật", 1, d(9), d(9), d(10)),
    T("CL-024", HARD, "Báo cáo tình hình giải ngân vốn đầu tư công", "Báo cáo giải ngân", 1, d(13),
      d(13), d(16)),
    T("CL-025", HARD, "Hướng dẫn phòng, chống dịch bệnh gia súc, gia cầm",
      "Thôn được hướng dẫn", 9, d(11), d(11), d(12), delivered=7),
    T("CL-025", SOFT, "Phối hợp tuyên truyền chuyển đổi số trong nông nghiệp",
      "Buổi tuyên truyền", 2, d(13), d(13), d(16)),
    T("CL-026", HARD, "Giám sát thi công đường giao thông nông thôn thôn Tân Xuân",
      "Nhật ký giám sát", 8, d(9), d(9), d(11), delivered=7,
      returned=Return(d(10), "Bổ sung ảnh hiện trường và chữ ký của đơn vị thi công", d(10))),
    T("CL-027", HARD, "Kiểm tra các điểm tập kết rác thải sinh hoạt", "Biên bản kiểm tra", 6, d(11),
      d(11), d(12), major_errors=1, comment="Chưa đề xuất biện pháp xử lý điểm tồn đọng"),
    T("CL-027", HARD, "Rà soát hồ sơ đăng ký kế hoạch bảo vệ môi trường", "Hồ sơ được rà soát", 5,
      d(13), d(13), d(16)),
    # Phòng Văn hóa - Xã hội: assigned and approved by its Trưởng phòng.
    T("CL-031", HARD, "Cập nhật tin bài trên Trang thông tin điện tử của xã", "Tin bài", 12,
      d(13), d(13), d(16), delivered=14),
    T("CL-031", HARD, "Tuyên truyền chuyển đổi số trên hệ thống truyền thanh", "Bản tin phát thanh",
      10, d(13), d(13), d(16), delivered=8),
    T("CL-032", SPEARHEAD, "Rà soát hộ nghèo, hộ cận nghèo trên địa bàn", "Hộ được rà soát", 85,
      d(13), d(13), d(16), major_errors=1, comment="Thiếu phiếu B1 của 6 hộ thôn Nghĩa Hy"),
    T("CL-032", HARD, "Lập danh sách chi trả trợ cấp xã hội tháng 3", "Danh sách chi trả", 1, d(6),
      d(6), d(9)),
    T("CL-033", HARD, "Tổng hợp số liệu phổ cập giáo dục, xóa mù chữ năm 2026",
      "Báo cáo phổ cập giáo dục", 1, d(11), d(11), d(13)),
    T("CL-033", HARD, "Kiểm tra cơ sở vật chất các trường mầm non trước năm học mới",
      "Báo cáo kiểm tra", 1, d(13), None, None),  # not submitted by the end of the cycle
    T("CL-034", HARD, "Đôn đốc tiêm chủng mở rộng cho trẻ em dưới 1 tuổi", "Trẻ được tiêm đủ mũi",
      60, d(13), d(13), d(16), delivered=51),
    T("CL-034", HARD, "Báo cáo tỷ lệ người dân tham gia bảo hiểm y tế", "Báo cáo BHYT", 1, d(9),
      d(9), d(10), major_errors=1, comment="Số liệu chưa khớp với cơ quan Bảo hiểm xã hội"),
    T("CL-035", HARD, "Nắm tình hình hoạt động tín ngưỡng, tôn giáo trên địa bàn",
      "Báo cáo tình hình tôn giáo", 1, d(13), d(13), d(16), major_errors=1,
      comment="Chưa nắm được hoạt động của điểm nhóm tại thôn Tân Tường"),
    T("CL-036", HARD, "Xây dựng kế hoạch tổ chức giải bóng chuyền chào mừng ngày 26/3",
      "Kế hoạch tổ chức giải", 1, d(11), d(11), d(16),
      returned=Return(d(12), "Dự toán kinh phí vượt định mức; điều chỉnh lại", d(13),
                      major_errors=1)),
    # Trung tâm Phục vụ hành chính công: assigned and approved by its Giám đốc.
    T("CL-041", HARD, "Tiếp nhận, trả kết quả hồ sơ thủ tục hành chính lĩnh vực hộ tịch",
      "Hồ sơ được tiếp nhận", 80, d(13), d(13), d(16), delivered=72),
    T("CL-042", HARD, "Tiếp nhận hồ sơ thủ tục hành chính lĩnh vực đất đai",
      "Hồ sơ được tiếp nhận", 45, d(13), d(13), d(16), delivered=38, major_errors=1,
      comment="2 hồ sơ tiếp nhận thiếu thành phần, phải yêu cầu bổ sung"),
    T("CL-043", HARD, "Tiếp nhận hồ sơ chứng thực, tư pháp", "Hồ sơ được tiếp nhận", 100, d(6),
      d(16), d(16)),  # six working days late
    T("CL-044", HARD, "Số hóa kết quả giải quyết thủ tục hành chính", "Kết quả được số hóa", 200,
      d(13), d(13), d(16)),
    T("CL-044", SOFT, "Hỗ trợ người dân kích hoạt tài khoản định danh điện tử VNeID",
      "Tài khoản được kích hoạt", 50, d(13), d(13), d(16), delivered=57),
    T("CL-045", HARD, "Hướng dẫn người dân nộp hồ sơ trực tuyến", "Lượt hướng dẫn", 60, d(13),
      d(13), d(16), delivered=64),
)

AUTHORITY = {
    "province": "Quyết định số 312/QĐ-UBND ngày 25/02/2026 của UBND tỉnh Quảng Trị giao "
    "nhiệm vụ, chỉ tiêu KPI cho lãnh đạo cấp xã",
    "commune": "Kế hoạch số 18/KH-UBND ngày 27/02/2026 của UBND xã Cam Lộ triển khai đánh giá "
    "KPI kỳ 1 tháng 3/2026",
    "unit": "Phân công của {head_title} {unit} theo Kế hoạch số 18/KH-UBND ngày 27/02/2026",
}


@dataclass(frozen=True)
class TargetPlan:
    indicator: str
    target: Decimal
    measure: str
    result: Decimal
    evidence: str


TARGETS = (
    TargetPlan("Tỷ lệ hồ sơ TTHC giải quyết đúng hạn", Decimal(95), "%", Decimal("97.3"),
               "Hệ thống thông tin giải quyết TTHC tỉnh, số liệu ngày 16/3/2026"),
    TargetPlan("Thu ngân sách nhà nước trên địa bàn", Decimal(1200), "triệu đồng", Decimal(1034),
               "Báo cáo thu ngân sách của Thuế cơ sở, số liệu ngày 16/3/2026"),
    TargetPlan("Số hộ nghèo giảm", Decimal(12), "hộ", Decimal(9),
               "Biên bản rà soát hộ nghèo, hộ cận nghèo của các thôn"),
    TargetPlan("Tỷ lệ hồ sơ TTHC nộp trực tuyến toàn trình", Decimal(60), "%", Decimal("64.5"),
               "Báo cáo của Trung tâm Phục vụ hành chính công ngày 16/3/2026"),
)

# Diary: the hours of each entry of a day (they sum to about eight), rotated per official.
HOUR_PATTERNS = tuple(
    tuple(Decimal(h) for h in pattern)
    for pattern in (
        ("4", "4"), ("3.5", "4.5"), ("3", "3", "2"), ("2.5", "3.5", "2"), ("4.5", "3.5"),
        ("3", "2.5", "2.5"), ("2", "4", "2"), ("3.5", "2.5", "1.5"),
    )
)
ROUTINE_DUTIES = {
    COMMUNE.code: ("Chủ trì giao ban", "Tiếp công dân", "Xử lý văn bản đến",
                   "Kiểm tra cơ sở", "Dự họp Đảng ủy"),
    OFFICE.code: ("Xử lý văn bản đến", "Soạn thảo văn bản", "Phục vụ họp giao ban",
                  "Cập nhật hệ thống quản lý văn bản", "Tổng hợp thông tin"),
    ECONOMY.code: ("Xử lý văn bản đến", "Kiểm tra thực địa", "Tiếp nhận phản ánh của người dân",
                   "Cập nhật sổ theo dõi", "Phối hợp với các thôn"),
    SOCIETY.code: ("Xử lý văn bản đến", "Làm việc với các thôn", "Tiếp nhận hồ sơ chính sách",
                   "Cập nhật cơ sở dữ liệu", "Phối hợp với các đoàn thể"),
    SERVICE.code: ("Tiếp nhận hồ sơ tại quầy", "Hướng dẫn thủ tục", "Trả kết quả",
                   "Số hóa hồ sơ", "Trả lời phản ánh, kiến nghị"),
}
PADDED_ENTRY = ("Tiếp nhận, trả kết quả hồ sơ TTHC", "Làm việc tại quầy tiếp nhận")
