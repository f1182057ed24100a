"""A small case history built through the real services, for the report's admin and API
tests: the numbers each test expects are worked out in ``small_history``'s docstring."""

from __future__ import annotations

import pytest
from django.utils import timezone

from requests_app.choices import CaseState, Role
from requests_app.services import cases as svc
from requests_app.services.proceedings import review_file
from tests.factories import case_in_state, caseworker

S = CaseState


@pytest.fixture
def small_history(tree):
    """This year (R = today), built through the services:

    - the office: A1, A2 natural persons replied 予以公开; A3 a commercial enterprise replied
      予以公开; A4 a natural person still processing (carried out); A5 a natural person
      withdrawn after receipt (三(六)3 其他); a review filed today on A1 (pending);
    - the finance department (under the city): D1 a natural person replied 予以公开;
    - another city: O1 replied 予以公开;
    - one application submitted online and never received (counts nowhere).

    The office alone, gov2021: 一 new natural_person 4, commercial_enterprise 1, total 5;
    三(一) disclosed 2 / 1 / 3; 三(六)3 other 1 / 0 / 1; 三(七) 3 / 1 / 4; 四 carried out 1 / 0 / 1;
    table 四 review pending 1. The city with descendants adds D1.
    """
    office, dept, other = tree["office"], tree["dept"], tree["other"]
    worker = caseworker(office, Role.APPROVER, username="office-worker")
    dept_worker = caseworker(dept, Role.APPROVER, username="dept-worker")
    other_worker = caseworker(other, Role.APPROVER, username="other-worker")
    a1 = case_in_state(S.REPLIED, agency=office, actor=worker, applicant_name="甲")
    a2 = case_in_state(S.REPLIED, agency=office, actor=worker, applicant_name="乙")
    a3 = case_in_state(
        S.REPLIED,
        agency=office,
        actor=worker,
        applicant_type="commercial_enterprise",
        applicant_name="某某有限公司",
        id_type="uscc",
        id_number="91520400MA6DXXXX0X",
        legal_representative="丙",
    )
    a4 = case_in_state(S.PROCESSING, agency=office, actor=worker, applicant_name="丁")
    a5 = case_in_state(S.REGISTERED, agency=office, actor=worker, applicant_name="戊")
    a5 = svc.case_withdraw(case=a5, actor=worker, reason="申请人撤回")
    review = review_file(case=a1, actor=worker, filed_on=timezone.localdate())
    d1 = case_in_state(S.REPLIED, agency=dept, actor=dept_worker, applicant_name="己")
    o1 = case_in_state(S.REPLIED, agency=other, actor=other_worker, applicant_name="庚")
    never = case_in_state(S.SUBMITTED, agency=office, actor=worker, applicant_name="辛")
    return {
        "year": timezone.localdate().year,
        "office": [a1, a2, a3, a4, a5],
        "a1": a1,
        "a2": a2,
        "a3": a3,
        "a4": a4,
        "a5": a5,
        "review": review,
        "d1": d1,
        "o1": o1,
        "never": never,
    }
