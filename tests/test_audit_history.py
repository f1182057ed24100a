"""The history cannot be altered through the application, the database refuses it on
PostgreSQL, and auditors (approvers, administrators) export a case's full history."""

import base64
import csv
import io
import json

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.urls import get_resolver

from requests_app.choices import CaseState as S
from requests_app.choices import Role
from requests_app.models import Case, CaseEvent
from requests_app.services.cases import case_add_note
from tests.factories import UserFactory, case_in_state, caseworker

is_postgres = connection.vendor == "postgresql"
needs_postgres = pytest.mark.skipif(not is_postgres, reason="needs PostgreSQL (DATABASE_URL)")

# Text a spreadsheet would run, script and SQL: exported as data, never as markup or formula.
NASTY_REASON = '=HYPERLINK("http://x")<script>alert(1)</script>\'; DROP TABLE requests_app_case;--'


def basic(user) -> dict:
    token = base64.b64encode(f"{user.username}:pass-123456".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def world(tree):
    approver = caseworker(tree["office"], Role.APPROVER, username="office-approver")
    case = case_in_state(S.PENDING_APPROVAL, agency=tree["office"], actor=approver)
    case_add_note(case=case, actor=approver, text=NASTY_REASON)
    return {"tree": tree, "approver": approver, "case": case}


def snapshot(case) -> list[tuple]:
    return list(
        CaseEvent.objects.filter(case=case)
        .order_by("pk")
        .values_list("pk", "kind", "actor_id", "recorded_at", "effective_at", "data", "reason")
    )


# --- the ORM guards ----------------------------------------------------------------------------
def test_orm_refuses_every_update_and_delete_path(world):
    case = world["case"]
    before = snapshot(case)
    event = CaseEvent.objects.filter(case=case).first()
    event.reason = "changed"
    attempts = {
        "save": lambda: event.save(),
        "save(update_fields)": lambda: event.save(update_fields=["reason"]),
        "delete": lambda: event.delete(),
        "queryset.update": lambda: CaseEvent.objects.filter(case=case).update(reason="x"),
        "queryset.delete": lambda: CaseEvent.objects.filter(case=case).delete(),
        "related update": lambda: case.events.update(reason="x"),
        "related delete": lambda: case.events.all().delete(),
        "bulk_update": lambda: CaseEvent.objects.bulk_update([event], ["reason"]),
        "_raw_delete": lambda: CaseEvent.objects.filter(case=case)._raw_delete(connection.alias),
        "update_or_create": lambda: CaseEvent.objects.update_or_create(
            pk=event.pk, defaults={"reason": "x"}
        ),
    }
    for name, attempt in attempts.items():
        with pytest.raises(PermissionError, match="append-only"), transaction.atomic():
            attempt()
        assert snapshot(case) == before, name


def test_cases_and_actors_with_history_cannot_be_deleted(world):
    case, approver = world["case"], world["approver"]
    before = snapshot(case)
    with pytest.raises(ProtectedError), transaction.atomic():
        Case.objects.filter(pk=case.pk).delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        approver.delete()
    assert snapshot(case) == before


# --- no route changes history ---------------------------------------------------------------------
def test_the_admin_has_no_page_for_events(world):
    assert not admin.site.is_registered(CaseEvent)
    superuser = UserFactory(username="root", is_superuser=True)
    client = Client()
    client.force_login(superuser)
    event = CaseEvent.objects.filter(case=world["case"]).first()
    for url in (
        "/admin/requests_app/caseevent/",
        f"/admin/requests_app/caseevent/{event.pk}/change/",
        f"/admin/requests_app/caseevent/{event.pk}/delete/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "x", "post": "yes"}).status_code == 404, url
    assert snapshot(world["case"])[0][6] == ""


def test_no_url_pattern_names_events_and_the_api_has_only_get_and_post(world):
    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    routes = list(walk(get_resolver()))
    assert [r for r in routes if "caseevent" in r or "events" in r] == []
    schema = Client().get("/api/schema/?format=json").json()
    methods = {m for operations in schema["paths"].values() for m in operations}
    assert methods <= {"get", "post", "delete", "parameters"}
    # The one DELETE revokes one's own integration token (signin): nothing of a case.
    deletes = [path for path, operations in schema["paths"].items() if "delete" in operations]
    assert deletes == ["/api/v1/staff/tokens/{token_key}/"]


def test_writes_on_the_case_and_its_history_urls_are_refused(world):
    case, approver = world["case"], world["approver"]
    before = snapshot(case)
    client = Client()
    for url in (
        f"/api/v1/staff/cases/{case.pk}/",
        f"/api/v1/staff/cases/{case.pk}/history.json",
        f"/api/v1/staff/cases/{case.pk}/history.csv",
    ):
        for method in ("put", "patch", "delete"):
            response = getattr(client, method)(
                url, "{}", content_type="application/json", **basic(approver)
            )
            assert response.status_code == 405, (method, url)
            assert response.json()["code"] == "method_not_allowed"
    # The admin case page never saves the model: a POST is refused.
    superuser = UserFactory(username="root", is_superuser=True)
    client.force_login(superuser)
    response = client.post(f"/admin/requests_app/case/{case.pk}/change/", {"reason": "x"})
    assert response.status_code == 403
    response = client.post(f"/admin/requests_app/case/{case.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert snapshot(case) == before


# --- the database's own guard (PostgreSQL) ------------------------------------------------------
@needs_postgres
@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_update_and_delete(world):
    case = world["case"]
    before = snapshot(case)
    for sql in (
        "UPDATE requests_app_caseevent SET reason = 'rewritten' WHERE case_id = %s",
        "DELETE FROM requests_app_caseevent WHERE case_id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [case.pk])
    # save_base skips the model's save(): the database still refuses.
    event = CaseEvent.objects.filter(case=case).first()
    event.reason = "rewritten"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save_base(force_update=True)
    assert snapshot(case) == before
    # New events are still written.
    case_add_note(case=Case.objects.get(pk=case.pk), actor=world["approver"], text="再记一笔")
    assert len(snapshot(case)) == len(before) + 1


# The app role's rights (UPDATE, DELETE, TRUNCATE, DISABLE, DROP refused): test_db_roles.py.


# --- the export -----------------------------------------------------------------------------------
def expected_rows(case) -> list[dict]:
    events = CaseEvent.objects.filter(case=case).order_by("effective_at", "recorded_at", "pk")
    return [
        {
            "seq": str(i),
            "event_id": str(e.pk),
            "kind": e.kind,
            "actor_username": e.actor.username if e.actor else "",
            "from_state": e.from_state,
            "to_state": e.to_state,
            "reason": e.reason,
        }
        for i, e in enumerate(events, start=1)
    ]


def test_auditor_exports_the_full_history_as_json_and_csv(world, caplog):
    tree, case = world["tree"], world["case"]
    auditor = caseworker(tree["city"], Role.AUDITOR, username="city-auditor")
    client = Client()
    events = list(CaseEvent.objects.filter(case=case).order_by("effective_at", "recorded_at", "pk"))
    assert [e.kind for e in events] == [
        "submitted",
        "confirm_receipt",
        "due_changed",
        "due_changed",
        "start_processing",
        "submit_for_approval",
        "note",
    ]
    with caplog.at_level("INFO", logger="requests_app.audit"):
        response = client.get(f"/api/v1/staff/cases/{case.pk}/history.json", **basic(auditor))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.tracking_number}-history.json"'
    )
    body = json.loads(response.content)
    assert body["case"] == {
        "id": case.pk,
        "tracking_number": case.tracking_number,
        "agency": "city-office",
        "state": "pending_approval",
        "version": Case.objects.get(pk=case.pk).version,
    }
    assert body["exported_by"] == "city-auditor"
    assert len(body["events"]) == 7
    first, last = body["events"][0], body["events"][-1]
    assert first["kind"] == "submitted" and first["actor_id"] is None
    assert first["from_state"] == "" and first["to_state"] == "submitted"
    assert first["to_state_label"] == "待确认接收"
    assert last == {
        "seq": 7,
        "event_id": events[-1].pk,
        "kind": "note",
        "kind_label": "备注",
        "actor_id": world["approver"].pk,
        "actor_username": "office-approver",
        "actor_label": events[-1].actor_label,
        "recorded_at": last["recorded_at"],
        "effective_at": last["effective_at"],
        "from_state": "pending_approval",
        "from_state_label": last["from_state_label"],
        "to_state": "pending_approval",
        "to_state_label": last["to_state_label"],
        "data": events[-1].data,
        "reason": NASTY_REASON,  # stored and exported verbatim
    }
    assert last["recorded_at"].endswith("+08:00")
    assert [r.getMessage() for r in caplog.records if r.name == "requests_app.audit"] == [
        f"history exported: user=city-auditor case={case.tracking_number} format=json "
        "via=api events=7"
    ]

    response = client.get(f"/api/v1/staff/cases/{case.pk}/history.csv", **basic(auditor))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffseq,event_id,kind,kind_label,actor_id,actor_username,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    picked = [{k: row[k] for k in expected_rows(case)[0]} for row in rows]
    expected = expected_rows(case)
    # A cell a spreadsheet would run as a formula is prefixed with a quote.
    expected[-1]["reason"] = "'" + NASTY_REASON
    assert picked == expected
    assert json.loads(rows[-1]["data"]) == events[-1].data


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.AUDITOR, 200),
        (Role.APPROVER, 200),
        (Role.ADMINISTRATOR, 200),
        (Role.SUPERVISOR, 403),
        (Role.HANDLER, 403),
        (Role.REGISTRAR, 403),
    ],
)
def test_who_may_export_the_history(world, role, status):
    user = caseworker(world["tree"]["office"], role, username=f"x-{role}")
    case = world["case"]
    for fmt in ("json", "csv"):
        response = Client().get(f"/api/v1/staff/cases/{case.pk}/history.{fmt}", **basic(user))
        assert response.status_code == status, fmt
        if status == 403:
            assert response.json()["code"] == "forbidden"


def test_export_of_a_case_out_of_sight_is_a_404_and_anonymous_a_401(world):
    stranger = caseworker(world["tree"]["other"], Role.AUDITOR, username="other-auditor")
    case = world["case"]
    client = Client()
    response = client.get(f"/api/v1/staff/cases/{case.pk}/history.json", **basic(stranger))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = client.get(f"/api/v1/staff/cases/{case.pk + 1000}/history.json", **basic(stranger))
    assert response.status_code == 404
    response = client.get(f"/api/v1/staff/cases/{case.pk}/history.csv")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_admin_case_page_offers_the_export_to_auditors_only(world, caplog):
    tree, case = world["tree"], world["case"]
    auditor = caseworker(tree["city"], Role.AUDITOR, username="city-auditor")
    handler = caseworker(tree["office"], Role.HANDLER, username="office-handler")
    client = Client()
    client.force_login(auditor)
    page = client.get(f"/admin/requests_app/case/{case.pk}/change/").content.decode()
    csv_url = f"/admin/requests_app/case/{case.pk}/history-export/csv/"
    json_url = f"/admin/requests_app/case/{case.pk}/history-export/json/"
    assert f'href="{csv_url}"' in page and f'href="{json_url}"' in page
    # The reason is shown escaped on the page, never as markup.
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with caplog.at_level("INFO", logger="requests_app.audit"):
        response = client.get(json_url)
    assert response.status_code == 200
    assert [e["kind"] for e in json.loads(response.content)["events"]][-1] == "note"
    assert caplog.records[-1].getMessage() == (
        f"history exported: user=city-auditor case={case.tracking_number} format=json "
        "via=admin events=7"
    )
    assert client.get(f"/admin/requests_app/case/{case.pk}/history-export/xml/").status_code == 404

    client.force_login(handler)
    page = client.get(f"/admin/requests_app/case/{case.pk}/change/").content.decode()
    assert "history-export" not in page
    assert client.get(csv_url).status_code == 403

    stranger = caseworker(tree["other"], Role.AUDITOR, username="other-auditor")
    client.force_login(stranger)
    assert client.get(csv_url).status_code == 404
    client.logout()
    response = client.get(csv_url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
