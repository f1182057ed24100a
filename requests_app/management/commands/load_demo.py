"""Load demo data: a city government's agency tree, a caseworker account for every role (the
password is printed), the national calendar, and a year of cases built through the real
services with their own past dates.

    manage.py load_demo [--no-accounts]

Safe to run twice: agencies and accounts are updated in place, and the cases are created
only when the demo agencies have none yet. At the end it runs the deadline sweep once, so
overdue cases already have their reminders in the inbox, and prints the demo accounts (unless
``--no-accounts``: ``make run`` prints them itself, last, once the servers are up).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from requests_app.calendars import calendar_for_agency
from requests_app.choices import AgencyKind, ApplicantType, CaseState, Channel, Role
from requests_app.models import Agency, Case, Caseworker
from requests_app.services import cases as svc
from requests_app.services.intake import case_intake, case_submit
from requests_app.validation import credit_code_check_char, mainland_id_check_digit

DEMO_PASSWORD = "gongkai-demo-2024"
ROOT = "anshun"
SEED = 20240101

# code, name, kind, parent, contact block (office, address, postal code, phone, e-mail)
AGENCIES = [
    (
        ROOT,
        "安顺市人民政府",
        AgencyKind.GOVERNMENT,
        None,
        (
            "安顺市人民政府办公室政务公开科",
            "安顺市西秀区虹山湖路1号",
            "561000",
            "0851-33221000",
            "gk@anshun.example.gov.cn",
        ),
    ),
    (
        "anshun-gov-office",
        "安顺市人民政府办公室",
        AgencyKind.OFFICE,
        ROOT,
        (
            "安顺市人民政府办公室政务公开科",
            "安顺市西秀区虹山湖路1号",
            "561000",
            "0851-33221001",
            "bgs@anshun.example.gov.cn",
        ),
    ),
    (
        "anshun-finance",
        "安顺市财政局",
        AgencyKind.DEPARTMENT,
        ROOT,
        (
            "安顺市财政局办公室",
            "安顺市西秀区黄果树大街18号",
            "561000",
            "0851-33222000",
            "czj@anshun.example.gov.cn",
        ),
    ),
    (
        "anshun-housing",
        "安顺市住房和城乡建设局",
        AgencyKind.DEPARTMENT,
        ROOT,
        (
            "安顺市住房和城乡建设局办公室",
            "安顺市西秀区中华南路66号",
            "561000",
            "0851-33223000",
            "zjj@anshun.example.gov.cn",
        ),
    ),
    (
        "anshun-natural-resources",
        "安顺市自然资源和规划局",
        AgencyKind.DEPARTMENT,
        ROOT,
        (
            "安顺市自然资源和规划局办公室",
            "安顺市西秀区北航路8号",
            "561000",
            "0851-33224000",
            "zrzy@anshun.example.gov.cn",
        ),
    ),
    (
        "anshun-ecology",
        "安顺市生态环境局",
        AgencyKind.DEPARTMENT,
        ROOT,
        (
            "安顺市生态环境局办公室",
            "安顺市西秀区南水路20号",
            "561000",
            "0851-33225000",
            "sthj@anshun.example.gov.cn",
        ),
    ),
    (
        "xixiu",
        "西秀区人民政府",
        AgencyKind.DISTRICT,
        ROOT,
        (
            "西秀区人民政府办公室",
            "安顺市西秀区南华路99号",
            "561000",
            "0851-33301000",
            "gk@xixiu.example.gov.cn",
        ),
    ),
    (
        "xixiu-nanhua",
        "西秀区南华街道办事处",
        AgencyKind.STREET,
        "xixiu",
        (
            "南华街道党政办",
            "安顺市西秀区南华路12号",
            "561000",
            "0851-33302000",
            "nanhua@xixiu.example.gov.cn",
        ),
    ),
    (
        "xixiu-donguan",
        "西秀区东关街道办事处",
        AgencyKind.STREET,
        "xixiu",
        (
            "东关街道党政办",
            "安顺市西秀区东关路3号",
            "561000",
            "0851-33303000",
            "dongguan@xixiu.example.gov.cn",
        ),
    ),
    (
        "pingba",
        "平坝区人民政府",
        AgencyKind.DISTRICT,
        ROOT,
        (
            "平坝区人民政府办公室",
            "安顺市平坝区金平大道1号",
            "561100",
            "0851-34221000",
            "gk@pingba.example.gov.cn",
        ),
    ),
    (
        "pingba-anping",
        "平坝区安平街道办事处",
        AgencyKind.STREET,
        "pingba",
        (
            "安平街道党政办",
            "安顺市平坝区安平路5号",
            "561100",
            "0851-34222000",
            "anping@pingba.example.gov.cn",
        ),
    ),
    (
        "pingba-gulong",
        "平坝区古龙街道办事处",
        AgencyKind.STREET,
        "pingba",
        (
            "古龙街道党政办",
            "安顺市平坝区古龙路8号",
            "561100",
            "0851-34223000",
            "gulong@pingba.example.gov.cn",
        ),
    ),
]
REVIEW_BODY = {
    ROOT: "贵州省人民政府",
    "xixiu-nanhua": "西秀区人民政府",
    "xixiu-donguan": "西秀区人民政府",
    "pingba-anping": "平坝区人民政府",
    "pingba-gulong": "平坝区人民政府",
}
COURT = {
    "pingba": "安顺市平坝区人民法院",
    "pingba-anping": "安顺市平坝区人民法院",
    "pingba-gulong": "安顺市平坝区人民法院",
    ROOT: "安顺市中级人民法院",
}

# The agencies that receive demo cases, each with a registrar, a handler and an approver.
WORKING_AGENCIES = {
    "anshun-gov-office": ("office", ("李娜", "张伟", "王芳")),
    "anshun-finance": ("finance", ("陈静", "刘洋", "杨帆")),
    "anshun-housing": ("housing", ("赵敏", "黄强", "周婷")),
    "xixiu": ("xixiu", ("吴霞", "徐磊", "孙丽")),
    "xixiu-nanhua": ("nanhua", ("胡军", "朱红", "高峰")),
}
# username, full name, agency, role, may see personal data
OVERSIGHT_ACCOUNTS = [
    ("city-supervisor", "林主管", ROOT, Role.SUPERVISOR, False),
    ("city-admin", "何管理", ROOT, Role.ADMINISTRATOR, True),
    ("city-auditor", "郭审计", ROOT, Role.AUDITOR, True),
    ("xixiu-supervisor", "马主管", "xixiu", Role.SUPERVISOR, False),
]
SUPERUSER = "admin"

REQUESTS = {
    "anshun-gov-office": [
        "申请公开2023年市政府常务会议研究城市更新工作的会议纪要。",
        "申请公开《安顺市优化营商环境若干措施》的起草说明及征求意见情况。",
        "申请公开2023年度市政府信息公开工作年度报告所依据的统计台账。",
        "申请公开市政府关于虹山湖片区控制性详细规划调整的批复文件。",
        "申请公开2022年以来市政府督查室对重点项目的督查通报。",
    ],
    "anshun-finance": [
        "申请公开2023年市级一般公共预算执行情况及部门决算报告。",
        "申请公开2023年市本级“三公”经费支出明细。",
        "申请公开某老旧小区改造项目财政资金拨付凭证及金额。",
        "申请公开2022年政府专项债券资金使用项目清单。",
    ],
    "anshun-housing": [
        "申请公开幸福家园小区旧城改造项目房屋征收补偿方案。",
        "申请公开全市公共租赁住房分配名单及审核标准。",
        "申请公开中华南路某住宅项目的竣工验收备案表。",
        "申请公开2023年城镇老旧小区改造计划及实施单位。",
    ],
    "xixiu": [
        "申请公开本人房屋所在地块的土地征收批复文件及征收公告。",
        "申请公开西秀区2023年农村危房改造补助对象名单。",
        "申请公开塔山路道路拓宽工程的立项批复和环境影响评价文件。",
        "申请公开西秀区2023年度财政预算公开表格。",
    ],
    "xixiu-nanhua": [
        "申请公开南华街道2023年城镇低保审批名单及标准。",
        "申请公开本社区临街门面招租的招标文件和中标结果。",
        "申请公开街道对本小区违章建筑的调查处理结果。",
    ],
}
ORGANISATIONS = [
    (ApplicantType.COMMERCIAL_ENTERPRISE, "贵州黔中建设工程有限公司"),
    (ApplicantType.LEGAL_SERVICE_ORG, "贵州黔安律师事务所"),
    (ApplicantType.RESEARCH_INSTITUTION, "安顺学院地方治理研究中心"),
    (ApplicantType.PUBLIC_INTEREST_ORG, "安顺市绿色家园环保志愿者协会"),
    (ApplicantType.OTHER_ORG, "西秀区南华社区业主委员会"),
]
PEOPLE = [
    "张建国",
    "王秀英",
    "李明",
    "刘芳",
    "陈磊",
    "杨洋",
    "赵丽",
    "黄涛",
    "周敏",
    "吴刚",
    "徐静",
    "孙涛",
    "马丽",
    "朱强",
    "胡燕",
    "郭亮",
    "何平",
    "罗娟",
    "梁斌",
    "宋佳",
]
ROADS = ["南华路", "塔山路", "中华南路", "黄果树大街", "东关路", "虹山湖路", "北航路", "若飞南路"]


@dataclass
class Step:
    """One action of a demo case, ``days`` working days after its receipt."""

    days: int
    action: str
    kwargs: dict = field(default_factory=dict)
    by: str = "handler"  # registrar, handler, approver, or system


def step(after: int, action: str, by: str = "handler", **kwargs) -> Step:
    return Step(after, action, kwargs, by)


# The search a reply of "not held" or "not this agency's" rests on (检索记录).
DEMO_SEARCH = {
    "keywords": "申请所述文件名称、文号及主题词",
    "sources": "本机关文书档案室、OA 办公系统公文库、政府信息公开平台",
    "units_asked": "办公室、业务科室",
    "result": "均未查找到申请所述信息",
}


def reply(start: int, outcome: str) -> list[Step]:
    search = []
    if outcome in ("not_exist", "not_this_agency"):
        search = [step(start, "record_search", **DEMO_SEARCH)]
    return [
        *search,
        step(start, "submit_for_approval", outcome=outcome),
        step(start + 1, "approve", by="approver", comment="同意"),
        step(start + 2, "serve_reply", service_method="post"),
    ]


# Life stories: the steps after registration (R is day 0).
CONCLUDED = {
    "disclosed": [
        step(1, "start_processing"),
        *reply(9, "disclosed"),
        step(15, "close", by="registrar"),
    ],
    "partially": [step(1, "start_processing"), *reply(12, "partially_disclosed")],
    "already_public": [
        step(1, "start_processing"),
        *reply(4, "already_public"),
        step(10, "close", by="registrar"),
    ],
    "not_exist": [step(1, "start_processing"), *reply(10, "not_exist")],
    "not_this_agency": [step(1, "start_processing"), *reply(3, "not_this_agency")],
    "process_info": [step(1, "start_processing"), *reply(14, "withheld_process_info")],
    "consulted": [
        step(1, "start_processing"),
        step(
            3,
            "start_consultation",
            consultee="贵州黔中建设工程有限公司",
            consultee_kind="third_party",
        ),
        step(11, "close_consultation", opinion="不同意公开，涉及商业秘密。"),
        *reply(15, "withheld_commercial_secret"),
    ],
    "supplemented": [
        step(
            3,
            "request_supplement",
            items="请写明所需信息的名称、文号或者便于查询的其他特征性描述。",
            period_days=15,
        ),
        step(8, "receive_supplement", by="registrar"),
        *reply(20, "disclosed"),
    ],
    "abandoned_no_supplement": [
        step(
            2,
            "request_supplement",
            items="请提供身份证明复印件，并写明所需信息的具体内容。",
            period_days=15,
        ),
        step(18, "abandon_no_supplement", by="system"),
    ],
    "fee_paid": [
        step(1, "start_processing"),
        step(5, "issue_fee_notice", amount_yuan="300.00", method="by_pages"),
        step(9, "record_fee_payment", by="registrar"),
        *reply(16, "disclosed"),
    ],
    "abandoned_no_fee": [
        step(1, "start_processing"),
        step(4, "issue_fee_notice", amount_yuan="1200.00", method="by_count"),
        step(25, "abandon_no_fee", by="system"),
    ],
    "extended": [
        step(1, "start_processing"),
        step(
            17,
            "extend",
            by="approver",
            days=15,
            reason="涉及多个年度档案，需调取、整理并进行保密审查。",
        ),
        *reply(30, "partially_disclosed"),
    ],
    "late": [step(1, "start_processing"), *reply(23, "disclosed")],
    "withdrawn": [
        step(1, "start_processing"),
        step(5, "withdraw", by="registrar", reason="申请人来电表示已通过其他途径获取。"),
    ],
    "reopened": [
        step(1, "start_processing"),
        *reply(8, "not_exist"),
        step(40, "reopen", by="approver", reason="行政复议决定责令重新答复。"),
        *reply(50, "partially_disclosed"),
    ],
}
# Open cases, and how many working days ago the story stopped.
OPEN = {
    "registered": [],
    "processing": [step(1, "start_processing")],
    "awaiting_supplement": [
        step(
            2,
            "request_supplement",
            items="请写明所需信息的时间范围和具体项目名称。",
            period_days=15,
        )
    ],
    "consulting": [
        step(1, "start_processing"),
        step(3, "start_consultation", consultee="西秀区人民政府", consultee_kind="agency"),
    ],
    "awaiting_fee": [
        step(1, "start_processing"),
        step(4, "issue_fee_notice", amount_yuan="200.00", method="by_pages"),
    ],
    "pending_approval": [
        step(1, "start_processing"),
        step(6, "submit_for_approval", outcome="disclosed"),
    ],
    "approved": [
        step(1, "start_processing"),
        step(6, "submit_for_approval", outcome="already_public"),
        step(7, "approve", by="approver"),
    ],
    "extended_processing": [
        step(1, "start_processing"),
        step(16, "extend", by="approver", days=20, reason="需要跨部门调取资料。"),
    ],
}
# (story, agency, channel, working days ago that R was): a year of concluded cases ...
CONCLUDED_PLAN = [
    ("disclosed", "anshun-gov-office", Channel.ONLINE, 240),
    ("partially", "anshun-finance", Channel.POST, 225),
    ("not_exist", "anshun-housing", Channel.ONLINE, 210),
    ("consulted", "anshun-gov-office", Channel.EMAIL, 200),
    ("supplemented", "xixiu", Channel.ONLINE, 190),
    ("abandoned_no_supplement", "xixiu-nanhua", Channel.POST_UNSIGNED, 180),
    ("fee_paid", "anshun-finance", Channel.ONLINE, 170),
    ("already_public", "anshun-gov-office", Channel.IN_PERSON, 160),
    ("extended", "anshun-housing", Channel.POST, 150),
    ("late", "xixiu", Channel.ONLINE, 140),
    ("withdrawn", "anshun-gov-office", Channel.ONLINE, 130),
    ("abandoned_no_fee", "anshun-finance", Channel.ONLINE, 120),
    ("not_this_agency", "xixiu-nanhua", Channel.IN_PERSON, 110),
    ("process_info", "anshun-gov-office", Channel.ONLINE, 100),
    ("disclosed", "anshun-housing", Channel.EMAIL, 95),
    ("reopened", "xixiu", Channel.POST, 150),
    ("disclosed", "anshun-finance", Channel.IN_PERSON, 85),
    ("partially", "anshun-gov-office", Channel.ONLINE, 75),
    ("supplemented", "anshun-housing", Channel.ONLINE, 65),
    ("late", "anshun-gov-office", Channel.POST, 60),
    ("not_exist", "xixiu-nanhua", Channel.ONLINE, 55),
    ("disclosed", "xixiu", Channel.FAX, 50),
    ("consulted", "anshun-finance", Channel.ONLINE, 48),
    ("extended", "anshun-gov-office", Channel.ONLINE, 45),
]
# ... and open ones: (story, agency, channel, working days ago that R was).
OPEN_PLAN = [
    ("registered", "anshun-gov-office", Channel.ONLINE, 2),
    ("registered", "anshun-finance", Channel.IN_PERSON, 1),
    ("processing", "anshun-gov-office", Channel.ONLINE, 8),
    ("processing", "anshun-housing", Channel.POST, 12),
    ("processing", "anshun-gov-office", Channel.EMAIL, 26),
    ("processing", "xixiu", Channel.ONLINE, 30),
    ("awaiting_supplement", "anshun-gov-office", Channel.ONLINE, 5),
    ("awaiting_supplement", "xixiu-nanhua", Channel.POST, 7),
    ("consulting", "anshun-housing", Channel.ONLINE, 9),
    ("awaiting_fee", "anshun-finance", Channel.ONLINE, 8),
    ("awaiting_fee", "anshun-gov-office", Channel.POST, 6),
    ("pending_approval", "anshun-gov-office", Channel.ONLINE, 9),
    ("pending_approval", "anshun-finance", Channel.EMAIL, 17),
    ("pending_approval", "xixiu", Channel.ONLINE, 24),
    ("approved", "anshun-gov-office", Channel.IN_PERSON, 10),
    ("extended_processing", "anshun-housing", Channel.ONLINE, 25),
]
SUBMITTED_PLAN = [
    ("anshun-gov-office", Channel.ONLINE),
    ("anshun-finance", Channel.EMAIL),
    ("xixiu", Channel.ONLINE),
]


def demo_usernames() -> list[str]:
    """Every demo account's username, in the order the accounts are listed."""
    names = [SUPERUSER]
    for prefix, _ in WORKING_AGENCIES.values():
        names += [f"{prefix}-{role}" for role in (Role.REGISTRAR, Role.HANDLER, Role.APPROVER)]
    return names + [username for username, *_ in OVERSIGHT_ACCOUNTS]


def demo_accounts() -> list[tuple[str, str, str]]:
    """The demo accounts that exist in the database: (username, role, agency), in list order."""
    users = {
        user.username: user
        for user in get_user_model()
        .objects.filter(username__in=demo_usernames(), is_active=True)
        .select_related("caseworker__agency")
    }
    accounts = []
    for username in demo_usernames():
        user = users.get(username)
        if user is None:
            continue
        if user.is_superuser:
            accounts.append((username, "超级用户", "全部"))
        elif hasattr(user, "caseworker"):
            worker = user.caseworker
            accounts.append((username, str(Role(worker.role).label), worker.agency.name))
    return accounts


def write_accounts(out, style, accounts: list[tuple[str, str, str]]) -> None:
    """Write the demo accounts as a table (username, the shared password, role / agency)."""
    out.write(style.SUCCESS(f"演示账号（密码均为 {DEMO_PASSWORD}）："))
    width = max(len(username) for username, *_ in accounts)
    out.write(f"  {'username'.ljust(width)}  password            role / agency")
    for username, role, agency in accounts:
        out.write(f"  {username.ljust(width)}  {DEMO_PASSWORD}  {role} / {agency}")


class Command(BaseCommand):
    help = "加载演示数据：机关、各角色账号（打印密码）、全国日历和一年的演示申请。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-accounts",
            action="store_true",
            help="不在结尾打印演示账号（make run 在服务启动后打印）",
        )

    def handle(self, *args, no_accounts=False, **options):
        self.rng = random.Random(SEED)
        agencies = self.load_agencies()
        accounts = self.load_accounts(agencies)
        self.load_calendar()
        root = agencies[ROOT]
        if Case.objects.filter(agency__path__startswith=root.path).exists():
            self.stdout.write("演示申请已存在，未重复创建。")
        else:
            created = self.load_cases(agencies)
            self.stdout.write(f"已创建 {created} 件演示申请。")
        self.sweep()
        if not no_accounts:
            self.stdout.write("")
            write_accounts(self.stdout, self.style, accounts)

    # --- agencies and people -------------------------------------------------------------------
    def load_agencies(self) -> dict[str, Agency]:
        agencies: dict[str, Agency] = {}
        for code, name, kind, parent, (office, address, postal, phone, email) in AGENCIES:
            agency, _ = Agency.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "parent": agencies.get(parent),
                    "office_name": office,
                    "address": "贵州省" + address,
                    "postal_code": postal,
                    "phone": phone,
                    "email": email,
                    "website": f"https://{email.split('@', 1)[1]}/",
                    "review_body": REVIEW_BODY.get(code, "安顺市人民政府"),
                    "court": COURT.get(code, "安顺市西秀区人民法院"),
                    # The guide on the applicants' pages.
                    "office_hours": "工作日 上午 9:00–12:00，下午 14:00–17:30",
                    "not_handled": (
                        "信访、投诉、举报事项（请通过信访渠道或 12345 热线提出）\n"
                        "查阅本人的户籍、婚姻登记等档案（请向档案管理机关申请）\n"
                        "要求为申请人制作、汇总、加工信息"
                    ),
                },
            )
            agencies[code] = agency
        self.stdout.write(f"机关：{len(agencies)} 个（{agencies[ROOT].name} 及其下级）。")
        return agencies

    def load_accounts(self, agencies) -> list[tuple[str, str, str]]:
        rows = [(SUPERUSER, "系统管理员", None, None, True)]
        for code, (prefix, names) in WORKING_AGENCIES.items():
            for role, name in zip(
                (Role.REGISTRAR, Role.HANDLER, Role.APPROVER), names, strict=True
            ):
                rows.append((f"{prefix}-{role}", name, code, role, role == Role.APPROVER))
        rows += OVERSIGHT_ACCOUNTS
        User = get_user_model()
        for username, full_name, code, role, sees_personal_data in rows:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name = full_name
            user.email = f"{username}@demo.example.gov.cn"
            user.is_staff = True
            user.is_active = True
            user.is_superuser = code is None
            user.set_password(DEMO_PASSWORD)
            user.save()
            if code is None:
                continue
            Caseworker.objects.update_or_create(
                user=user,
                defaults={
                    "agency": agencies[code],
                    "role": role,
                    "can_view_personal_data": sees_personal_data,
                },
            )
        self.users = {username: User.objects.get(username=username) for username, *_ in rows}
        return demo_accounts()

    def load_calendar(self) -> None:
        if "load_calendar" not in get_commands():
            self.stdout.write(self.style.WARNING("没有 load_calendar 命令：期限按普通周末计算。"))
            return
        call_command("load_calendar", stdout=self.stdout, stderr=self.stderr)

    # --- cases --------------------------------------------------------------------------------
    def actor(self, agency_code: str, by: str):
        if by == "system":
            return None
        prefix = WORKING_AGENCIES[agency_code][0]
        return self.users[f"{prefix}-{by}"]

    def applicant(self, number: int) -> dict:
        rng = self.rng
        road = rng.choice(ROADS)
        address = f"贵州省安顺市西秀区{road}{rng.randrange(1, 200)}号"
        phone = f"1{rng.choice('3589')}{rng.randrange(0, 10**9):09d}"
        if number % 5 == 4:
            kind, name = ORGANISATIONS[(number // 5) % len(ORGANISATIONS)]
            first17 = "91520400" + "".join(
                rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9)
            )
            return {
                "applicant_type": kind,
                "applicant_name": name,
                "id_type": "credit_code",
                "id_number": first17 + credit_code_check_char(first17),
                "legal_representative": rng.choice(PEOPLE),
                "contact_person": rng.choice(PEOPLE),
                "phone": phone,
                "email": f"org{number}@example.com",
                "address": address,
                "postal_code": "561000",
            }
        birth = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(0, 16000))
        first17 = f"520402{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
        return {
            "applicant_type": ApplicantType.NATURAL_PERSON,
            "applicant_name": PEOPLE[number % len(PEOPLE)],
            "id_type": "mainland_id",
            "id_number": first17 + mainland_id_check_digit(first17),
            "phone": phone,
            "email": f"applicant{number}@example.com" if number % 3 else "",
            "address": address,
            "postal_code": "561000",
        }

    def fields(self, agency_code: str, number: int, channel: str) -> dict:
        fields = self.applicant(number)
        fields["description"] = self.rng.choice(REQUESTS[agency_code])
        fields["information_form"] = (
            "paper" if channel in (Channel.IN_PERSON, Channel.POST) else "electronic"
        )
        # By e-mail only to an applicant who gave an address for it; by post otherwise.
        fields["delivery_method"] = {Channel.IN_PERSON: "collect", Channel.POST: "post"}.get(
            channel, "email" if fields["email"] else "post"
        )
        return fields

    def working_days_ago(self, calendar, n: int) -> dt.date:
        day = timezone.localdate()
        while n > 0:
            day -= dt.timedelta(days=1)
            if calendar.is_working_day(day):
                n -= 1
        return day

    def moment(self, day: dt.date, order: int) -> dt.datetime:
        """A time on ``day`` in office hours, later for later steps of the same day."""
        minutes = 9 * 60 + self.rng.randrange(0, 60) + order * 37
        naive = dt.datetime.combine(day, dt.time(min(minutes // 60, 17), minutes % 60))
        return timezone.make_aware(naive)

    def start_case(self, agency: Agency, channel: str, received_on: dt.date, number: int) -> Case:
        fields = self.fields(agency.code, number, channel)
        at = self.moment(received_on, 0)
        registrar = self.actor(agency.code, "registrar")
        if channel in (Channel.IN_PERSON, Channel.ORAL, Channel.POST):
            case, _code = case_intake(
                actor=registrar,
                agency=agency,
                channel=channel,
                fields=fields,
                received_on=received_on,
                effective_at=at,
            )
            return case
        case, _code = case_submit(agency=agency, channel=channel, fields=fields, submitted_at=at)
        return svc.case_confirm_receipt(
            case=case,
            actor=registrar,
            received_on=received_on,
            effective_at=self.moment(received_on, 1),
        )

    def run_story(self, case: Case, steps: list[Step], received_on: dt.date, calendar) -> Case:
        previous = None
        order = 2
        for step in steps:
            day = calendar.add_working_days(received_on, step.days) if step.days else received_on
            order = order + 1 if day == previous else 2
            previous = day
            at = self.moment(day, order)
            kwargs = dict(step.kwargs)
            if step.action == "serve_reply":
                kwargs["served_on"] = day
                if kwargs.get("service_method") == "post":
                    # An EMS number of the S10 form with its check digit, one per case.
                    serial = f"{case.pk % 10**8:08d}"
                    kwargs["tracking_number"] = f"EA{serial}{svc.s10_check_digit(serial)}CN"
            if step.action == "receive_supplement":
                kwargs["received_on"] = day
            if step.action == "record_search":
                kwargs["searched_on"] = day
            case = svc.ACTIONS[step.action](
                case=case, actor=self.actor(case.agency.code, step.by), effective_at=at, **kwargs
            )
        return case

    @transaction.atomic
    def load_cases(self, agencies) -> int:
        number = 0
        for story, code, channel, ago in CONCLUDED_PLAN + OPEN_PLAN:
            agency = agencies[code]
            calendar = calendar_for_agency(agency)
            received_on = self.working_days_ago(calendar, ago)
            case = self.start_case(agency, channel, received_on, number)
            steps = CONCLUDED.get(story) or OPEN[story]
            self.run_story(case, steps, received_on, calendar)
            number += 1
        # On-the-spot replies (Art 33 ¶1) at the counter, a few months back.
        for ago in (70, 35):
            agency = agencies["anshun-gov-office"]
            received_on = self.working_days_ago(calendar_for_agency(agency), ago)
            case = self.start_case(agency, Channel.IN_PERSON, received_on, number)
            svc.case_reply_on_spot(
                case=case,
                actor=self.actor(agency.code, "registrar"),
                outcome="already_public",
                effective_at=self.moment(received_on, 3),
            )
            number += 1
        # Submitted online in the last two days, receipt not yet confirmed.
        for code, channel in SUBMITTED_PLAN:
            agency = agencies[code]
            day = self.working_days_ago(calendar_for_agency(agency), 1)
            case_submit(
                agency=agency,
                channel=channel,
                fields=self.fields(code, number, channel),
                submitted_at=self.moment(day, 5),
            )
            number += 1
        number = self.load_records_cases(agencies, number)
        self.load_tasks(agencies)
        states = Case.objects.filter(agency__path__startswith=agencies[ROOT].path).values_list(
            "state", flat=True
        )
        summary = {CaseState(s).label: list(states).count(s) for s in sorted(set(states))}
        self.stdout.write("按状态：" + "，".join(f"{label} {n}" for label, n in summary.items()))
        return number

    def load_records_cases(self, agencies, number: int) -> int:
        """Two cases with records (区分处理): one answered with a partial release, its letter's
        table, the applicant's download and a publication in the reading room; one with a
        record waiting for review."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from requests_app.choices import Outcome, PageDecision, WithholdBasis
        from requests_app.management.sample_records import THIRD_PARTY, sample_pdf
        from requests_app.services import records as rec
        from requests_app.services.letters import letter_draft, letter_serve

        agency = agencies["anshun-housing"]
        calendar = calendar_for_agency(agency)
        handler = self.actor(agency.code, "handler")
        approver = self.actor(agency.code, "approver")
        description = "申请公开城南棚户区改造项目征收补偿情况，包括补偿标准和已支付情况。"
        stories = []
        for ago in (12, 3):
            received_on = self.working_days_ago(calendar, ago)
            fields = {
                **self.fields(agency.code, number, Channel.ONLINE),
                "description": description,
            }
            case, code = case_submit(
                agency=agency,
                channel=Channel.ONLINE,
                fields=fields,
                submitted_at=self.moment(received_on, 0),
            )
            case = svc.case_confirm_receipt(
                case=case,
                actor=self.actor(agency.code, "registrar"),
                received_on=received_on,
                effective_at=self.moment(received_on, 1),
            )
            case = svc.case_start_processing(
                case=case, actor=handler, effective_at=self.moment(received_on, 2)
            )
            record = rec.record_upload(
                case=case,
                actor=handler,
                upload=SimpleUploadedFile("城南棚改征收补偿情况说明.pdf", sample_pdf()),
                title="城南棚户区改造项目征收补偿情况说明",
                source="市住房和城乡建设局",
                document_number="安住建函〔2025〕18号",
            )
            stories.append((case, code, record))
            number += 1

        case, code, record = stories[0]
        for suggestion in rec.suggestions_find(record=record, actor=handler, names=[THIRD_PARTY]):
            rec.suggestion_accept(
                suggestion=suggestion,
                actor=handler,
                basis=WithholdBasis.PERSONAL_PRIVACY,
                reason="被征收人的个人信息",
            )
        last = record.pages.order_by("-index").first()
        rec.page_decide(
            page=last,
            actor=handler,
            decision=PageDecision.WITHHOLD,
            basis=WithholdBasis.PROCESS_INFO,
            reason="内部讨论意见",
        )
        release = rec.release_build(case=case, actor=handler)
        case = svc.case_submit_for_approval(
            case=case, actor=handler, outcome=Outcome.PARTIALLY_DISCLOSED
        )
        case = svc.case_approve(case=case, actor=approver)
        letter = letter_draft(case=case, actor=handler, kind="reply")
        letter_serve(letter=letter, actor=handler, served_on=timezone.localdate(), method="email")
        release.refresh_from_db()
        rec.release_publish(
            release=release,
            actor=approver,
            title="城南棚户区改造项目征收补偿情况",
            summary="征收补偿的户数、补偿标准和已支付情况（个人信息和内部讨论意见已作区分处理）。",
        )
        self.stdout.write(
            f"区分处理演示：{case.tracking_number} 已部分公开（答复书附区分处理说明）；"
            f"申请人下载公开文本：/release/?n={case.tracking_number}，查询码 {code}。"
            f"待审查：{stories[1][0].tracking_number}。"
        )
        self.records_waiting = stories[1][0]
        return number

    def load_tasks(self, agencies) -> None:
        """Two 交办: the housing bureau's case waiting for review asked the finance bureau, which
        answered with a record; an office case asked the district, open and due soon."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from requests_app.management.sample_records import sample_pdf
        from requests_app.services import records_tasks

        case = self.records_waiting
        housing, finance = agencies["anshun-housing"], agencies["anshun-finance"]
        asked = records_tasks.task_assign(
            case=case,
            actor=self.actor(housing.code, "handler"),
            unit=finance,
            request="请提供城南棚户区改造项目征收补偿资金的拨付凭证（2024—2025年）。",
            days=5,
        )
        records_tasks.task_answer(
            task=asked,
            actor=self.actor(finance.code, "handler"),
            answer="records",
            uploads=[
                (
                    SimpleUploadedFile(
                        "补偿资金拨付凭证.pdf",
                        sample_pdf(title="城南棚户区改造项目征收补偿资金拨付凭证", pages=1),
                    ),
                    "城南棚改征收补偿资金拨付凭证",
                )
            ],
        )
        office = agencies["anshun-gov-office"]
        open_case = (
            Case.objects.filter(agency=office, state=CaseState.PROCESSING, handler__isnull=False)
            .order_by("received_on", "pk")
            .first()
        )
        waiting = records_tasks.task_assign(
            case=open_case,
            actor=open_case.handler,
            unit=agencies["xixiu"],
            request="请检索并提供西秀区2024年度城区道路改造项目的立项批复文件；如未掌握，请说明检索情况。",
            days=2,
        )
        self.stdout.write(
            f"交办演示：{case.tracking_number} 交办{finance.name}，已答复并提供文件；"
            f"{open_case.tracking_number} 交办{waiting.unit.name}，{waiting.due_on} 前答复。"
        )

    def sweep(self) -> None:
        from requests_app.services.records_tasks import records_tasks_sweep
        from requests_app.services.sweep import deadlines_sweep

        totals = deadlines_sweep()
        self.stdout.write(f"期限扫描：{totals}")
        self.stdout.write(f"交办期限扫描：{records_tasks_sweep()}")
