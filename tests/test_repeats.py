"""Repeat requests: the 重复申请 flag (written pending at submission, completed by the sweep;
at once for counter intake), and the information asked for by several applicants (条例 Art 44)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from requests_app.choices import Channel
from requests_app.legal_selectors import repeat_flags, repeated_requests
from requests_app.models import Case, RepeatCheck
from requests_app.services.intake import case_intake, case_submit
from requests_app.services.repeats import repeat_check_record, repeat_checks_complete
from requests_app.similarity import applicant_key, bigrams, normalize, similarity
from tests.factories import application_fields, valid_id_number

BUDGET = "申请公开2023年本机关财政预算执行情况。"
BUDGET_AGAIN = "请公开本机关2023年的财政预算执行情况"
ROAD = "申请公开南华路道路拓宽工程的立项批复文件。"


def submit(agency, description, **fields):
    case, _ = case_submit(
        agency=agency, fields=application_fields(description=description, **fields)
    )
    return case


def test_similarity_is_bigram_jaccard_over_normalised_text():
    assert normalize("申请公开 2023年，预算！") == "2023年预算"
    assert bigrams("ab，c") == frozenset({"ab", "bc"})
    # {财政, 政预, 预算} vs {财政, 政决, 决算}: 1 shared of 5.
    assert similarity("财政预算", "财政决算") == pytest.approx(1 / 5)
    # "2023年本机关财政预算执行情况" (15 bigrams) and "本机关2023年的财政预算执行情况" (16)
    # share 13: 13 / (15 + 16 - 13).
    assert similarity(BUDGET, BUDGET_AGAIN) == pytest.approx(13 / 18)
    assert similarity(BUDGET, ROAD) == 0.0
    assert applicant_key(id_number=" 52040219800101123x ") == applicant_key(
        id_number="52040219800101123X"
    )
    assert applicant_key(name="王 五", phone="139-0000") == applicant_key(
        name="王五", phone="1390000"
    )


def test_a_repeat_by_the_same_applicant_is_flagged_once_the_sweep_checks_it(office, approver):
    first = submit(office, BUDGET)
    other = submit(office, ROAD)
    again = submit(office, BUDGET_AGAIN)
    # The submission writes its row pending: the applicant's hash, no result, no read.
    assert list(
        RepeatCheck.objects.order_by("case_id").values_list(
            "case_id", "applicant_key", "repeats_id", "similarity", "checked_at"
        )
    ) == [
        (c.pk, applicant_key(id_number=valid_id_number(1)), None, 0.0, None)
        for c in (first, other, again)
    ]
    assert list(repeat_flags(user=approver)) == []

    assert repeat_checks_complete() == 3
    assert RepeatCheck.objects.filter(checked_at__isnull=True).count() == 0
    assert RepeatCheck.objects.get(case=first).repeats is None
    assert RepeatCheck.objects.get(case=other).repeats is None
    check = RepeatCheck.objects.get(case=again)
    assert check.repeats == first
    assert check.similarity == pytest.approx(round(13 / 18, 4))
    assert list(repeat_flags(user=approver)) == [check]
    assert repeat_check_record(case=again) == check  # idempotent
    assert repeat_checks_complete() == 0


def test_another_applicant_or_agency_is_not_a_repeat(tree, office):
    first = submit(office, BUDGET)
    someone_else = submit(office, BUDGET, id_number=valid_id_number(7), applicant_name="李四")
    elsewhere = submit(tree["dept"], BUDGET)
    same = submit(office, BUDGET)
    assert repeat_checks_complete() == 4
    assert RepeatCheck.objects.get(case=someone_else).repeats is None
    assert RepeatCheck.objects.get(case=elsewhere).repeats is None
    assert RepeatCheck.objects.get(case=same).repeats == first  # the control: the same applicant


def test_only_earlier_applications_count_whatever_order_the_checks_run_in(office):
    first = submit(office, BUDGET)
    second = submit(office, BUDGET_AGAIN)
    # The later one is checked first (it compares with the first's pending row), then the first.
    assert repeat_check_record(case=second).repeats == first
    assert repeat_check_record(case=first).repeats is None
    assert repeat_checks_complete() == 0


def test_counter_intake_is_checked_at_once(office, registrar):
    online = submit(office, BUDGET)  # still pending: its hash is already there to compare with
    case, _code = case_intake(
        actor=registrar,
        agency=office,
        channel=Channel.IN_PERSON,
        fields=application_fields(description=BUDGET_AGAIN),
    )
    check = RepeatCheck.objects.get(case=case)
    assert (check.repeats, check.checked_at is not None) == (online, True)
    assert RepeatCheck.objects.get(case=online).checked_at is None


def test_the_staff_read_of_a_case_completes_its_pending_check(office, approver):
    first = submit(office, BUDGET)
    again = submit(office, BUDGET_AGAIN)
    client = APIClient()
    client.force_authenticate(approver)
    response = client.get(f"/api/v1/staff/cases/{again.pk}/legal/")
    assert response.status_code == 200
    shown = response.json()["repeat_check"]
    assert (shown["repeats"], shown["repeats_tracking_number"], shown["similarity"]) == (
        first.pk,
        first.tracking_number,
        round(13 / 18, 4),
    )
    assert shown["checked_at"] is not None
    assert RepeatCheck.objects.get(case=again).checked_at is not None
    assert RepeatCheck.objects.get(case=first).checked_at is None  # only the case read


def test_the_beat_sweep_completes_the_pending_checks(office, monkeypatch):
    from requests_app import tasks

    monkeypatch.setattr(tasks.notifications_send_task, "apply_async", lambda *a, **k: None)
    first = submit(office, BUDGET)
    again = submit(office, BUDGET_AGAIN)
    result = tasks.deadlines_sweep_task.run()
    assert result["repeat_checks"] == 2
    assert RepeatCheck.objects.get(case=again).repeats == first


def test_information_asked_for_by_several_applicants(office):
    a = submit(office, BUDGET, id_number=valid_id_number(1))
    b = submit(office, BUDGET_AGAIN, id_number=valid_id_number(2))
    c = submit(office, "申请公开本机关2023年财政预算执行情况的报告", id_number=valid_id_number(3))
    submit(office, ROAD, id_number=valid_id_number(4))
    submit(office, ROAD, id_number=valid_id_number(4))  # one applicant twice
    # Only received applications count (online ones wait for confirmation).
    Case.objects.filter(agency=office).update(received_on="2025-03-03")
    found = repeated_requests(agency=office)
    assert len(found) == 1
    group = found[0]
    assert group.applicants == 3
    assert set(group.case_ids) == {a.pk, b.pk, c.pk}
    assert group.description == BUDGET
    assert group.disclosed == 0
    assert group.min_similarity >= 0.6
    # The road request counts once a second person asks for it.
    assert [g.applicants for g in repeated_requests(agency=office, min_applicants=1)] == [3, 1]


def test_imported_histories_are_checked_on_import_and_compared_with_later(tree, registrar):
    """The fast import checks each imported case as the counter's intake does (nothing is
    left for the sweep): a later imported application by the same applicant repeats the
    earlier one, and a new application repeats an imported one."""
    from requests_app.importers import FastReplayer
    from tests.test_import_cases import at, history, lines

    def imported(external_id, day, description):
        events = [{"type": "submitted", "at": at(day, 9)}, {"type": "received", "at": at(day)}]
        return history(external_id, events, agency_ref="city/city-office", description=description)

    summary = FastReplayer(source="h.jsonl", batch_size=2).run(
        lines([imported("H-1", "2023-03-01", BUDGET), imported("H-2", "2023-06-01", ROAD),
               imported("H-3", "2023-09-01", BUDGET_AGAIN)])
    )  # fmt: skip
    assert [r.status for r in summary.results] == ["imported"] * 3, summary.results
    budget, road, again = (Case.objects.get(external_id=f"H-{n}") for n in (1, 2, 3))
    assert not RepeatCheck.objects.filter(checked_at__isnull=True).exists()

    def found(case):
        check = RepeatCheck.objects.get(case=case)
        return check.repeats, check.similarity

    assert found(budget) == (None, 0.0)
    assert found(road) == (None, 0.0)
    # Across the two batches, as alike as the counter's check finds them (the test above).
    assert found(again) == (budget, round(13 / 18, 4))  # stored to 4 places
    # 张三 with the same phone and no ID number, as the imported applicant.
    fields = application_fields(
        description=BUDGET_AGAIN, id_type="", id_number="", applicant_name="张三",
        phone="13800138000",
    )  # fmt: skip
    case, _code = case_intake(
        actor=registrar, agency=budget.agency, channel=Channel.IN_PERSON, fields=fields
    )
    assert found(case) == (again, 1.0)  # the same words: the closest
    assert repeat_checks_complete() == 0
