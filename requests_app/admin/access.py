"""Who may enter which admin page: the Caseworker row (agency and role) is the single source of
truth, never Django's model permissions (``requests_app.permissions`` holds the table)."""

from __future__ import annotations

from requests_app.choices import Role
from requests_app.permissions import caseworker_of, is_staff_member


def is_admin_user(user) -> bool:
    """A caseworker (any role) or a superuser; the admin site itself also requires is_staff."""
    return bool(user and user.is_active and is_staff_member(user))


def is_administrator(user) -> bool:
    """May change agencies and caseworkers (superusers, and administrators in their subtree)."""
    if not (user and user.is_active and user.is_authenticated):
        return False
    if user.is_superuser:
        return True
    worker = caseworker_of(user)
    return bool(worker and worker.role == Role.ADMINISTRATOR)


class CaseworkerAccessMixin:
    """View access for every caseworker; no add, change or delete unless a subclass says so."""

    def has_module_permission(self, request) -> bool:
        return is_admin_user(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_admin_user(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AdministratorWriteMixin(CaseworkerAccessMixin):
    """Caseworkers read; superusers and administrators add and change (never delete: rows are
    referenced by cases and history)."""

    def has_add_permission(self, request) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user)
