"""The caseworkers' admin, in Chinese (政府信息公开申请办理系统).

Access comes from the Caseworker row (agency and role), never from Django's model permissions;
the case page changes nothing itself: its action buttons call ``requests_app.services``.
"""

from django.contrib import admin

admin.site.site_header = "政府信息公开申请办理系统"
admin.site.site_title = "政府信息公开申请办理系统"
admin.site.index_title = "办理工作台"
# "查看站点" in the header: the applicants' own pages (portal/).
admin.site.site_url = "/"
admin.site.index_template = "admin/requests_app/index.html"
# "查看站点" in the header: hidden while the project has no public pages (Django's default, "/",
# is a 404). When the applicants' pages exist, set this to their address, e.g. "/".
admin.site.site_url = None

from . import agencies, calendar, cases, inbox, proceedings, records_tasks  # noqa: E402, F401
