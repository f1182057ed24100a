"""Audit: a case's history cannot be changed, and auditors export it whole.

- ``history``: the full history of one case as rows, CSV and JSON, and who may export it;
- ``api``: ``GET /api/v1/staff/cases/<id>/history.csv`` and ``.json``;
- ``admin_views``: the same files from the case page (a button for auditors, approvers and
  administrators);
- ``migrations``: on PostgreSQL, a trigger that refuses UPDATE and DELETE of
  ``requests_app_caseevent`` (the second guard behind ``CaseEvent``'s own);
- ``sql/app_role.sql`` (``manage.py grant_app_role``): the app database role's rights, which keep it from changing the history.
"""
