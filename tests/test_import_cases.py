"""The history import: the fast path equals the services path; impossible histories are
rejected with line and reason; ledgers convert to the same histories."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from requests_app.importers import (
    FastReplayer,
    ServicesReplayer,
    ledger_template,
    read_jsonl,
    read_ledger,
)
from requests_app.models import Case, CaseEvent, Complaint, FeeNotice, Lawsuit, Notification, Review
from tests.report_helpers import agency


def at(day: str, hour: int = 10) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


def history(external_id, events, channel="online", agency_ref="city/office", **extra):
    return {
        "external_id": external_id,
        "agency": agency_ref,
        "applicant": {
            "type": "natural_person",
            "name": "张三",
            "email": "z@example.com",
            "phone": "13800138000",
        },  # fmt: skip
        "channel": channel,
        "description": "申请公开 2021 年预算",
        "events": events,
        **extra,
    }


# Varied legal histories: every event type and every closing path.
def legal_histories(prefix: str) -> list[dict]:
    return [
        history(f"{prefix}-1", [
            {"type": "submitted", "at": at("2021-03-01", 9)},
            {"type": "received", "at": at("2021-03-01")},
            {"type": "replied", "at": at("2021-03-15", 16), "outcome": "disclosed"},
        ], reviews=[{"filed_on": "2021-04-10", "decided_on": "2021-05-30", "outcome": "upheld"}],
            lawsuits=[{"filed_on": "2021-06-01", "after_review": True, "decided_on": None,
                       "outcome": "pending"}],
            complaints=[{"filed_on": "2021-07-01"}]),
        history(f"{prefix}-2", [
            {"type": "received", "at": at("2021-12-20")},
            {"type": "supplement_requested", "at": at("2021-12-22"), "items": "文号",
             "period_days": 10},
            {"type": "supplement_received", "at": at("2022-01-05")},
            {"type": "consultation_sent", "at": at("2022-01-06"), "party": "third_party"},
            {"type": "consultation_closed", "at": at("2022-01-20")},
            {"type": "extended", "at": at("2022-01-25"), "days": 20},
            {"type": "fee_notice", "at": at("2022-01-26"), "amount_yuan": "100.00"},
            {"type": "fee_paid", "at": at("2022-02-03")},
            {"type": "replied", "at": at("2022-02-20"), "outcome": "partially_disclosed"},
        ], channel="post"),
        history(f"{prefix}-3", [
            {"type": "submitted", "at": at("2022-05-01")},
            {"type": "received", "at": at("2022-05-02")},
            {"type": "supplement_requested", "at": at("2022-05-05")},
            {"type": "replied", "at": at("2022-06-10"), "outcome": "abandoned_no_supplement"},
        ], channel="email"),
        history(f"{prefix}-4", [
            {"type": "received", "at": at("2022-05-02")},
            {"type": "fee_notice", "at": at("2022-05-06"), "amount_yuan": "300"},
            {"type": "replied", "at": at("2022-06-10"), "outcome": "abandoned_no_fee"},
        ], channel="in_person"),
        history(f"{prefix}-5", [
            {"type": "submitted", "at": at("2022-08-01")},
            {"type": "replied", "at": at("2022-08-03"), "outcome": "withdrawn"},
        ]),
        history(f"{prefix}-6", [
            {"type": "received", "at": at("2022-12-28")},
        ], channel="oral", agency_ref="street"),
    ]  # fmt: skip


@pytest.fixture
def tree(db):
    city = agency("city", kind="government")
    agency("office", city, kind="office")
    agency("street", city, kind="street")


CASE_IGNORED = {"id", "tracking_number", "access_code_hash", "external_id", "created_at",
                "updated_at"}  # fmt: skip


def case_columns(case: Case) -> dict:
    """The case's columns an import decides (not its ids, random codes and times of entry)."""
    return {
        f.attname: getattr(case, f.attname)
        for f in Case._meta.concrete_fields
        if f.attname not in CASE_IGNORED
    }


def event_row(event, dropped: tuple[str, ...]) -> tuple:
    """An event as two imports are compared: its data without the keys ``dropped``, and no
    effective time for the events dated at entry (due dates moved, the import itself)."""
    return (
        event.kind, event.actor_id, event.actor_label, event.from_state, event.to_state,
        {k: v for k, v in event.data.items() if k not in dropped}, event.reason,
        None if event.kind in ("due_changed", "imported") else event.effective_at,
    )  # fmt: skip


def snapshot(external_id: str) -> dict:
    case = Case.objects.get(external_id=external_id)
    fields = case_columns(case)
    events = [
        event_row(e, ("external_id", "source", "line"))
        for e in case.events.order_by("effective_at", "pk")
    ]
    return {"fields": fields, "events": events, "linked": linked_rows(case)}


def linked_rows(case: Case) -> tuple:
    """The fee notices, reviews, lawsuits and complaints of ``case``, without ids."""
    return (
        [(f.amount_yuan, f.issued_on, f.paid_on, f.waived, f.method)
         for f in case.fee_notices.order_by("pk")],
        [(r.filed_on, r.decided_on, r.result) for r in case.reviews.order_by("pk")],
        [(r.filed_on, r.decided_on, r.result, r.after_review)
         for r in case.lawsuits.order_by("pk")],
        [(c.filed_on, c.agency_id, c.summary) for c in case.complaints.order_by("pk")],
    )  # fmt: skip


def lines(histories):
    return list(enumerate(histories, start=1))


def test_fast_path_equals_the_services_path(tree):
    slow = ServicesReplayer(source="a.jsonl").run(lines(legal_histories("S")))
    fast = FastReplayer(source="a.jsonl").run(lines(legal_histories("F")))
    assert [r.status for r in slow.results] == ["imported"] * 6
    assert [r.status for r in fast.results] == ["imported"] * 6
    for n in range(1, 7):
        s, f = snapshot(f"S-{n}"), snapshot(f"F-{n}")
        assert s == f, n
    # The replay really went through the machine: states, outcomes and R as the law says.
    two = Case.objects.get(external_id="F-2")
    assert (two.state, two.outcome, two.received_on, two.concluded_on) == (
        "replied",
        "partially_disclosed",
        dt.date(2021, 12, 20),
        dt.date(2022, 2, 20),
    )
    assert two.is_extended and two.restarted_on == dt.date(2022, 1, 5)
    assert two.reply_due_on is not None
    assert Case.objects.get(external_id="F-5").received_on is None
    assert Case.objects.get(external_id="F-6").state == "registered"
    assert FeeNotice.objects.get(case=two).paid_on == dt.date(2022, 2, 3)
    assert Review.objects.filter(case__external_id="F-1").count() == 1
    assert Lawsuit.objects.get(case__external_id="F-1").after_review is True
    assert Complaint.objects.get(case__external_id="F-1").filed_on == dt.date(2021, 7, 1)
    assert list(
        CaseEvent.objects.filter(case=two, kind="imported").values_list("data", flat=True)
    ) == [{"external_id": "F-2", "source": "a.jsonl", "line": 2}]
    # History is not news: the applicants were not written to.
    assert Notification.objects.count() == 0
    assert two.email == "z@example.com"


IMPOSSIBLE = [
    (history("X-1", [{"type": "received", "at": at("2022-03-01")},
                     {"type": "supplement_received", "at": at("2022-03-05")}]),
     "events[2] supplement_received"),
    (history("X-2", [{"type": "received", "at": at("2022-03-01")},
                     {"type": "extended", "at": at("2022-03-02")},
                     {"type": "extended", "at": at("2022-03-03")}]),
     "events[3] extended"),
    (history("X-3", [{"type": "received", "at": at("2022-03-05")},
                     {"type": "replied", "at": at("2022-03-01"), "outcome": "disclosed"}]),
     "before the previous event"),
    (history("X-4", [{"type": "received", "at": at("2022-03-01")},
                     {"type": "replied", "at": at("2022-03-02"), "outcome": "granted"}]),
     "unknown outcome 'granted'"),
    (history("X-5", [{"type": "received", "at": at("2022-03-01")},
                     {"type": "replied", "at": at("2022-03-02"), "outcome": "disclosed"},
                     {"type": "fee_paid", "at": at("2022-03-03")}]),
     "events[3] fee_paid"),
    (history("X-6", [{"type": "received", "at": at("2022-03-01")}], agency_ref="nowhere"),
     "unknown agency 'nowhere'"),
    (history("X-7", [{"type": "submitted", "at": at("2022-03-01")}], channel="post"),
     "needs a 'received' event"),
    (history("X-8", [{"type": "received", "at": at("2022-03-01")}],
             reviews=[{"filed_on": "2022-01-01", "decided_on": None, "outcome": "pending"}]),
     "reviews[1]"),
]  # fmt: skip


@pytest.mark.parametrize("replayer", [FastReplayer, ServicesReplayer])
def test_impossible_histories_are_rejected_and_the_rest_load(tree, replayer):
    good = legal_histories("G")[0]
    batch = [good] + [h for h, _ in IMPOSSIBLE]
    summary = replayer().run(lines(batch))
    assert [r.status for r in summary.results] == ["imported"] + ["rejected"] * len(IMPOSSIBLE)
    for result, (_, why) in zip(summary.results[1:], IMPOSSIBLE, strict=True):
        assert why in result.reason, (result.line, result.reason)
    assert list(Case.objects.values_list("external_id", flat=True)) == ["G-1"]


def test_command_reports_counts_and_fails_on_rejections(tree, tmp_path):
    path = tmp_path / "h.jsonl"
    rows = [legal_histories("C")[0], IMPOSSIBLE[0][0]]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{not json\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="2 line"):
        call_command("import_cases", str(path), stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "imported=1 skipped=0 rejected=2"
    assert "line 2: X-1 rejected: events[2] supplement_received" in err.getvalue()
    assert "line 3: ? rejected: 不是有效的 JSON / invalid JSON" in err.getvalue()


def test_create_agencies_builds_the_path(db, tmp_path):
    h = legal_histories("P")[0]
    h["agency"] = "baohe/baohe-streets/baohe-street-1"
    summary = FastReplayer(create_agencies=True).run(lines([h]))
    assert summary.imported == 1
    case = Case.objects.get(external_id="P-1")
    assert case.agency.path == "/baohe/baohe-streets/baohe-street-1/"
    assert case.agency.name == "baohe-street-1"


def test_ledger_rows_become_histories(tree):
    template = ledger_template("csv").decode("utf-8-sig").splitlines()
    header = template[0]
    row = ("L-1,city/office,自然人,李四,邮寄,申请公开,2022-03-01,2022-03-02,,,2022-03-20,,,,"
           "2022-04-15,不予公开：个人隐私,2022-05-01,2022-06-01,纠正,,,,")  # fmt: skip
    data = (header + "\n" + row + "\n").encode()
    parsed = list(read_ledger(data, "ledger.csv"))
    assert parsed[0][0] == 2
    summary = FastReplayer().run(parsed)
    assert [r.status for r in summary.results] == ["imported"], summary.results
    case = Case.objects.get(external_id="L-1")
    assert (case.channel, case.applicant_type, case.outcome) == (
        "post",
        "natural_person",
        "withheld_personal_privacy",
    )
    assert (case.received_on, case.concluded_on, case.is_extended) == (
        dt.date(2022, 3, 2),
        dt.date(2022, 4, 15),
        True,
    )
    assert list(case.reviews.values_list("result", flat=True)) == ["corrected"]


def test_ledger_xlsx_template_round_trips(tree):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(ledger_template("xlsx")))
    ws = wb["台账"]
    ws.cell(2, 2, "city/office")
    buffer = io.BytesIO()
    wb.save(buffer)
    summary = FastReplayer().run(read_ledger(buffer.getvalue(), "ledger.xlsx"))
    assert [r.status for r in summary.results] == ["imported"]
    case = Case.objects.get(external_id="AS-2018-0001")
    assert (case.channel, case.outcome, case.received_on) == (
        "online",
        "disclosed",
        dt.date(2018, 3, 1),
    )


def test_read_jsonl_numbers_lines_and_skips_blank_ones():
    parsed = list(read_jsonl(io.StringIO('{"a": 1}\n\n{"b": 2}\n')))
    assert [(n, obj) for n, obj in parsed] == [(1, {"a": 1}), (3, {"b": 2})]


def test_fast_path_keeps_text_with_tabs_newlines_and_backslashes(tree):
    # COPY's text format escapes these; the stored text and JSON must come back unchanged.
    h = legal_histories("T")[0]
    h["description"] = "第一行\t制表\n第二行\\反斜杠\r结束"
    h["events"][-1]["legal_basis"] = "依据\t第\\十\n条"
    summary = FastReplayer(source="t\tab.jsonl").run(lines([h]))
    assert [r.status for r in summary.results] == ["imported"]
    case = Case.objects.get(external_id="T-1")
    assert case.description == "第一行\t制表\n第二行\\反斜杠\r结束"
    assert case.legal_basis == "依据\t第\\十\n条"
    assert case.events.get(kind="imported").data == {
        "external_id": "T-1", "source": "t\tab.jsonl", "line": 1
    }  # fmt: skip


def test_fast_path_skips_an_external_id_repeated_in_the_same_file(tree):
    first, again = legal_histories("D")[0], legal_histories("D")[0]
    summary = FastReplayer(batch_size=1).run(lines([first, again]))
    assert [r.status for r in summary.results] == ["imported", "skipped"]
    assert Case.objects.filter(external_id="D-1").count() == 1
