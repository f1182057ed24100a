"""Agencies as a tree, and the caseworkers who belong to them."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from requests_app.choices import AgencyKind, Role

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,63}$", _("代码只能包含小写字母、数字、下划线和连字符。")
)


class AgencyQuerySet(models.QuerySet):
    def subtree(self, agency: "Agency") -> "AgencyQuerySet":
        """The agency and every descendant (one indexed prefix match on ``path``)."""
        return self.filter(path__startswith=agency.path)


class Agency(models.Model):
    """A government, department, district or street office that answers applications.

    ``path`` is the materialised path of codes from the root (``/anshun/anshun-xixiu/``), kept
    by ``agency_create``/``agency_move`` so a subtree is one prefix match.
    """

    code = models.CharField(_("机关代码"), max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(_("机关名称"), max_length=200)
    kind = models.CharField(
        _("类型"), max_length=20, choices=AgencyKind.choices, default=AgencyKind.DEPARTMENT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级机关"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=1000, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    # The contact block the office's letters carry (告知书 letterhead).
    office_name = models.CharField(_("政务公开工作机构"), max_length=200, blank=True)
    address = models.CharField(_("通讯地址"), max_length=300, blank=True)
    postal_code = models.CharField(_("邮政编码"), max_length=6, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    website = models.URLField(_("网站"), blank=True)
    review_body = models.CharField(_("行政复议机关"), max_length=200, blank=True)
    court = models.CharField(_("管辖法院"), max_length=200, blank=True)

    # The office's 政府信息公开指南 as the public pages show it (beside the contact block).
    office_hours = models.CharField(
        _("办公时间"),
        max_length=200,
        blank=True,
        help_text=_("例如：工作日 9:00–12:00，14:00–17:00"),
    )
    not_handled = models.TextField(
        _("不予处理的事项"),
        blank=True,
        help_text=_("本机关不受理、或应向其他机关申请的事项，每行一项；公开指南中列出。"),
    )
    fee_rules = models.TextField(
        _("收费说明"),
        blank=True,
        help_text=_("留空则显示全国统一的信息处理费标准（国办函〔2020〕109号）。"),
    )

    # Decisions an agency may take (the **Decision** lines of docs/law.md).
    auto_confirm_receipt = models.BooleanField(
        _("自动确认接收"),
        default=False,
        help_text=_("开启后，网络申请的收到日期为提交日（非工作日提交的顺延至下一工作日）。"),
    )
    auto_close_abandoned = models.BooleanField(
        _("逾期自动终止"),
        default=True,
        help_text=_("逾期未补正或未缴费的申请自动终止；关闭则生成待办由人工确认。"),
    )
    supplement_period_days = models.PositiveSmallIntegerField(
        _("补正期限（工作日）"), null=True, blank=True, help_text=_("留空则使用系统默认值。")
    )

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("机关")
        verbose_name_plural = _("机关")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The path is derived data of code and parent, like a cached property kept on disk.
        self.path = self.compute_path()
        self.depth = self.path.count("/") - 2
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id else "/"
        return f"{prefix}{self.code}/"

    def ancestors_and_self_paths(self) -> list[str]:
        parts = [p for p in self.path.split("/") if p]
        return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


class Caseworker(models.Model):
    """A staff user's place in the office: one agency, one role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="caseworker"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("所属机关"), on_delete=models.PROTECT, related_name="caseworkers"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    can_view_personal_data = models.BooleanField(
        _("可查看完整个人信息"),
        default=False,
        help_text=_("关闭时身份证号、电话、地址以掩码显示。"),
    )

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()}（{self.agency.name}·{self.get_role_display()}）"
