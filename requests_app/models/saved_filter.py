"""A caseworker's named filters of the case list (我的筛选), shown on their workbench."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedFilter(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(_("名称"), max_length=60)
    # The case list's query string (filters, search, ordering), without the page number.
    query = models.CharField(_("筛选条件"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("我的筛选")
        verbose_name_plural = _("我的筛选")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_filter_user_name")
        ]

    def __str__(self) -> str:
        return self.name
