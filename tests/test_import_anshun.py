"""Anshun 2018 reproduced from case histories: import them, report legacy2014, compare to the
published table cell for cell (reference/anshun-2018.json)."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.report_helpers import agency

# The published 2018 table of 安顺市 (its 依申请公开 statistics), copied into tests/data.
REFERENCE = json.loads((Path(__file__).parent / "data/anshun-2018.json").read_text())

# Where Anshun's 169 applications went (the published breakdown) and which agencies there.
AGENCIES = {
    "市政府办公室": ["anshun/anshun-office"],
    "各县区": ["anshun/anshun-counties/xixiu", "anshun/anshun-counties/pingba",
             "anshun/anshun-counties/puding"],
    "市政府工作部门": ["anshun/anshun-departments/finance", "anshun/anshun-departments/land",
                "anshun/anshun-departments/housing"],
}  # fmt: skip
NODE_CODES = {"市政府办公室": "anshun-office", "各县区": "anshun-counties",
              "市政府工作部门": "anshun-departments"}  # fmt: skip

# The published reply figures, as outcomes (legacy2014 §5.2 rules).
OUTCOMES = (
    ["already_public"] * 42
    + ["disclosed"] * 54
    + ["partially_disclosed"] * 14
    + ["withheld_commercial_secret"] * 2
    + ["withheld_not_government_info"] * 6
    + ["withheld_process_info"] * 2
    + ["withheld_prohibited_by_law", "withheld_third_party_other"]
    + ["not_this_agency"] * 32
    + ["not_exist"] * 4
    + ["abandoned_no_supplement"] * 2
    + ["unclear_after_supplement"] * 2
    + ["petition_complaint"] * 4
    + ["publication"] * 2
    + ["withheld_administrative_query"]
)
# 19 in person (当面 and 口头), 86 online (网络 and e-mail), 64 by letter (signed and not).
CHANNELS = (
    ["in_person"] * 15 + ["oral"] * 4 + ["online"] * 80 + ["email"] * 6
    + ["post"] * 50 + ["post_unsigned"] * 14
)  # fmt: skip
APPLICANTS = ["natural_person", "commercial_enterprise", "legal_service_org", "other_org"]


def at(day: dt.date, hour: int = 10) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def anshun_histories() -> list[dict]:
    assert len(OUTCOMES) == len(CHANNELS) == 169
    places = []
    for node, count in (("市政府办公室", 43), ("各县区", 52), ("市政府工作部门", 74)):
        paths = AGENCIES[node]
        places += [paths[i % len(paths)] for i in range(count)]
    histories = []
    for i in range(169):
        outcome = OUTCOMES[(i * 7) % 169]  # spread the outcomes over the agencies
        channel = CHANNELS[i]
        received = dt.date(2018, 1, 8) + dt.timedelta(days=(i * 2) % 320)
        events = [{"type": "submitted", "at": at(received, 9)},
                  {"type": "received", "at": at(received, 10)}]  # fmt: skip
        day = received
        if outcome in ("abandoned_no_supplement", "unclear_after_supplement"):
            day += dt.timedelta(days=3)
            events.append({"type": "supplement_requested", "at": at(day), "items": "请说明所需信息的名称",
                           "period_days": 15})  # fmt: skip
            if outcome == "unclear_after_supplement":
                day += dt.timedelta(days=5)
                events.append({"type": "supplement_received", "at": at(day)})
            else:
                day += dt.timedelta(days=25)
        if i in (20, 120):  # the two extended cases
            day += dt.timedelta(days=10)
            events.append({"type": "extended", "at": at(day), "days": 15})
        day += dt.timedelta(days=8)
        events.append({"type": "replied", "at": at(day, 16), "outcome": outcome})
        histories.append(
            {
                "external_id": f"AS-2018-{i + 1:04d}",
                "agency": places[i],
                "applicant": {
                    "type": APPLICANTS[i % 4],
                    "name": f"申请人{i + 1}",
                    "email": f"a{i}@example.com",
                },  # fmt: skip
                "channel": channel,
                "description": "申请公开……",
                "events": events,
            }
        )
    # Nine reviews filed in 2018: 4 upheld, 2 corrected, 3 other (1 settled, 2 undecided at the
    # cutoff, one of them decided in 2019); two direct suits, both upheld.
    reviews = [("2018-04-10", "2018-05-30", "upheld"), ("2018-05-10", "2018-06-30", "upheld"),
               ("2018-06-10", "2018-07-30", "upheld"), ("2018-07-10", "2018-08-30", "upheld"),
               ("2018-08-10", "2018-09-30", "corrected"), ("2018-09-10", "2018-10-30", "corrected"),
               ("2018-10-10", "2018-11-30", "other"), ("2018-11-20", None, "pending"),
               ("2018-12-10", "2019-02-01", "upheld")]  # fmt: skip
    for n, (filed, decided, outcome) in enumerate(reviews):
        histories[n * 3]["reviews"] = [
            {"filed_on": filed, "decided_on": decided, "outcome": outcome}
        ]
    for n in (1, 4):
        histories[n]["lawsuits"] = [{"filed_on": "2018-11-01", "after_review": False,
                                     "decided_on": "2018-12-20", "outcome": "upheld"}]  # fmt: skip
    return histories


@pytest.fixture
def anshun_tree(db):
    root = agency("anshun", kind="government", name="安顺市人民政府")
    agency("anshun-office", root, kind="office", name="安顺市人民政府办公室")
    agency("anshun-counties", root, kind="other", name="各县区")
    agency("anshun-departments", root, kind="other", name="市政府工作部门")
    return root


def run_import(tmp_path, histories, *args):
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(h, ensure_ascii=False) for h in histories) + "\n")
    out = io.StringIO()
    call_command("import_cases", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def report_json(*args) -> dict:
    out = io.StringIO()
    call_command("annual_report", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def test_anshun_2018_is_reproduced_cell_for_cell(anshun_tree, tmp_path):
    out = run_import(tmp_path, anshun_histories(), "--create-agencies")
    assert out.strip().splitlines()[-1] == "imported=169 skipped=0 rejected=0"
    report = report_json("--year", "2018", "--agency", "anshun")
    assert report["format"] == "legacy2014"
    assert report["include_descendants"] is True
    assert report["cutoff"] == "2018-12-31T23:59:59.999999+08:00"
    assert report["cells"] == REFERENCE["cells"]
    for node, received in REFERENCE["breakdown_received_by_agency"].items():
        part = report_json("--year", "2018", "--agency", NODE_CODES[node])
        assert part["cells"]["received_total"] == received, node
    alone = report_json("--year", "2018", "--agency", "anshun", "--no-descendants")
    assert alone["cells"]["received_total"] == 0


def test_reimport_changes_nothing_and_says_so(anshun_tree, tmp_path):
    histories = anshun_histories()[:5]
    run_import(tmp_path, histories, "--create-agencies")
    from requests_app.models import Case, CaseEvent

    before = (Case.objects.count(), CaseEvent.objects.count())
    out = run_import(tmp_path, histories)
    assert out.strip().splitlines()[-1] == "imported=0 skipped=5 rejected=0"
    assert "line 1: AS-2018-0001 skipped: 已导入 / already imported" in out
    assert (Case.objects.count(), CaseEvent.objects.count()) == before
