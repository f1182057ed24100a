"""Import speed: case histories per second into PostgreSQL, with full validation.

    DATABASE_URL=postgres://... python bench/import_cases.py [--quick]

Generates N JSONL-shaped histories (a realistic mix: every channel, the outcomes, 补正 answered
or abandoned, consultations of a third party or another agency, extensions, fees paid, waived
or abandoned, withdrawals, cases still open, combinations of these, reviews, lawsuits and
complaints, and about 1 in 200 impossible histories that must be rejected), writes them as
JSONL text, and imports that text with the same code as ``manage.py import_cases`` (JSON
parsing included; replay through the state machine and clock in memory, then bulk insert).
The import does what the services do for each case: its 重复申请 check, and (a published 2023
report of the tree is made first) the stale flag of that report. Prints cases per second.
The bar: 2,500 cases/s.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import time
from collections import Counter

from _setup import setup

REPLY_OUTCOMES = ["disclosed"] * 6 + ["already_public"] * 3 + ["partially_disclosed"] * 2 + [
    "not_exist", "not_this_agency", "withheld_personal_privacy", "withheld_process_info",
    "withheld_commercial_secret", "duplicate", "unclear_after_supplement",
]  # fmt: skip
CHANNELS = ["online"] * 5 + ["email", "post", "post", "in_person", "oral", "post_unsigned"]
APPLICANTS = ["natural_person"] * 6 + ["commercial_enterprise", "legal_service_org", "other_org"]


def at(day: dt.date, hour: int = 10) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def history(i: int, run: str, rng: random.Random) -> tuple[str, dict]:
    """One history and its shape (for the printed mix)."""
    day = dt.date(2022, 1, 3) + dt.timedelta(days=rng.randrange(0, 1000))
    channel = rng.choice(CHANNELS)
    events = [{"type": "submitted", "at": at(day, 9)}]
    if rng.random() < 0.3:  # registered or confirmed a few days later
        day += dt.timedelta(days=rng.randrange(1, 4))
    events.append({"type": "received", "at": at(day)})
    roll = rng.random()
    shape, steps = "reply", []
    if roll < 0.12:
        shape = "supplement"
        d2 = day + dt.timedelta(days=rng.randrange(1, 6))
        steps += [{"type": "supplement_requested", "at": at(d2), "items": "请说明所需信息的文号",
                   "period_days": rng.choice([10, 15])}]  # fmt: skip
        if rng.random() < 0.25:
            shape = "supplement_abandoned"
            steps.append({"type": "replied", "at": at(d2 + dt.timedelta(days=30)),
                          "outcome": "abandoned_no_supplement"})  # fmt: skip
        else:
            day = d2 + dt.timedelta(days=rng.randrange(2, 10))
            steps.append({"type": "supplement_received", "at": at(day)})
    elif roll < 0.22:
        shape = "consultation"
        d2 = day + dt.timedelta(days=rng.randrange(2, 6))
        day = d2 + dt.timedelta(days=rng.randrange(3, 20))
        steps += [{"type": "consultation_sent", "at": at(d2),
                   "party": rng.choice(["third_party", "agency"])},
                  {"type": "consultation_closed", "at": at(day)}]  # fmt: skip
    elif roll < 0.30:
        shape = "extension"
        day += dt.timedelta(days=rng.randrange(15, 27))
        steps.append({"type": "extended", "at": at(day), "days": rng.choice([10, 15, 20])})
    elif roll < 0.37:
        shape = "fee"
        d2 = day + dt.timedelta(days=rng.randrange(3, 10))
        steps.append({"type": "fee_notice", "at": at(d2),
                      "amount_yuan": rng.choice(["100.00", "300", "1200.50"])})  # fmt: skip
        r = rng.random()
        if r < 0.2:
            shape = "fee_abandoned"
            steps.append({"type": "replied", "at": at(d2 + dt.timedelta(days=35)),
                          "outcome": "abandoned_no_fee"})  # fmt: skip
        else:
            day = d2 + dt.timedelta(days=rng.randrange(2, 12))
            steps.append({"type": "fee_paid", "at": at(day), "waived": r < 0.35})
    elif roll < 0.40:
        shape = "combined"  # 补正, consultation, extension and fee in one history
        d = day + dt.timedelta(days=2)
        steps += [
            {"type": "supplement_requested", "at": at(d), "items": "文号"},
            {"type": "supplement_received", "at": at(d + dt.timedelta(days=5))},
            {"type": "consultation_sent", "at": at(d + dt.timedelta(days=7)),
             "party": "third_party"},
            {"type": "consultation_closed", "at": at(d + dt.timedelta(days=15))},
            {"type": "extended", "at": at(d + dt.timedelta(days=25)), "days": 20},
            {"type": "fee_notice", "at": at(d + dt.timedelta(days=26)), "amount_yuan": "100"},
            {"type": "fee_paid", "at": at(d + dt.timedelta(days=30))},
        ]  # fmt: skip
        day = d + dt.timedelta(days=30)
    elif roll < 0.43:
        shape = "withdrawn"
        steps.append({"type": "replied", "at": at(day + dt.timedelta(days=3)),
                      "outcome": "withdrawn", "reason": "申请人撤回"})  # fmt: skip
    elif roll < 0.48:
        shape = "open"  # still being handled
    events += steps
    if not events[-1].get("outcome") and shape != "open":
        events.append({"type": "replied", "at": at(day + dt.timedelta(days=rng.randrange(2, 18)), 16),
                       "outcome": rng.choice(REPLY_OUTCOMES)})  # fmt: skip
    obj = {
        "external_id": f"BENCH-{run}-{i}",
        "agency": f"bench-import/bench-import-{i % 20}",
        "applicant": {
            "type": rng.choice(APPLICANTS),
            "name": f"申请人{i}",
            "email": "a@example.com",
            "phone": f"138{i:08d}",
            "address": "贵州省安顺市西秀区……",
        },  # fmt: skip
        "channel": channel,
        "description": "申请公开 2022 年度……的文件\t及其附件",
        "events": events,
    }
    concluded = events[-1].get("outcome") not in (None, "withdrawn")
    reply_day = dt.date.fromisoformat(events[-1]["at"][:10])
    if concluded and rng.random() < 0.08:
        filed = reply_day + dt.timedelta(days=rng.randrange(10, 60))
        decided = rng.random() < 0.7
        obj["reviews"] = [{"filed_on": filed.isoformat(),
                           "decided_on": (filed + dt.timedelta(days=50)).isoformat() if decided else None,
                           "outcome": rng.choice(["upheld", "corrected", "other"]) if decided else "pending"}]  # fmt: skip
        if rng.random() < 0.3:
            sued = filed + dt.timedelta(days=70)
            obj["lawsuits"] = [{"filed_on": sued.isoformat(), "after_review": True,
                                "decided_on": None, "outcome": "pending"}]  # fmt: skip
    if concluded and rng.random() < 0.03:
        obj["complaints"] = [{"filed_on": (reply_day + dt.timedelta(days=5)).isoformat(),
                              "summary": "对答复不满意"}]  # fmt: skip
    if rng.random() < 0.005:  # impossible: a 补正 received that was never asked for
        shape = "impossible"
        obj["events"].insert(2, {"type": "supplement_received", "at": events[1]["at"]})
    return shape, obj


def histories(n: int, run: str) -> tuple[str, Counter]:
    """``n`` histories as JSONL text, and how many of each shape."""
    rng = random.Random(7)
    shapes: Counter = Counter()
    out = io.StringIO()
    for i in range(n):
        shape, obj = history(i, run, rng)
        shapes[shape] += 1
        shapes["with_review"] += "reviews" in obj
        shapes["with_lawsuit"] += "lawsuits" in obj
        shapes["with_complaint"] += "complaints" in obj
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return out.getvalue(), shapes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    setup()
    from requests_app.importers import FastReplayer, read_jsonl

    n = 4000 if args.quick else 40000
    run = str(int(time.time()))
    text, shapes = histories(n, run)
    print("histories:", ", ".join(f"{k}={v}" for k, v in sorted(shapes.items())))
    # Warm up: create the agencies and load the calendars once (not counted).
    FastReplayer(create_agencies=True).run(read_jsonl(io.StringIO(histories(40, run + "w")[0])))
    # A published report of the tree for 2023, which the import flags stale (its note counts
    # the imported cases it counts: the staleness check runs over every case).
    from reporting.models import AnnualReport
    from reporting.services import report_generate, report_publish
    from requests_app.models import Agency

    root = Agency.objects.get(code="bench-import")
    if not AnnualReport.objects.filter(agency=root, year=2023).exists():
        report_publish(report=report_generate(agency=root, year=2023))
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    source = f"bench-{run}.jsonl"
    summary = FastReplayer(create_agencies=True, source=source).run(read_jsonl(io.StringIO(text)))
    seconds = time.perf_counter() - started
    # This process's CPU (both threads) per case: unlike the rate, it hardly moves with the
    # load other programs put on the machine (the database server's CPU is not in it).
    cpu_us = (time.process_time() - cpu_started) / max(summary.imported, 1) * 1e6
    load = max(load_before, os.getloadavg()[0])
    rate = summary.imported / seconds
    print(f"imported {summary.imported} rejected {summary.rejected} in {seconds:.2f}s "
          f"(python {cpu_us:.0f} us CPU per case; load average {load:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    report = AnnualReport.objects.get(agency=root, year=2023)
    note = next((n for n in report.stale_reasons if n.get("source") == source), None)
    print(f"the 2023 report flagged stale: {report.is_stale}; "
          f"its note for this run: {note and note['reason']}")  # fmt: skip
    print(f"RESULT cases_per_s={rate:.0f} cases={summary.imported} rejected={summary.rejected} "
          f"seconds={seconds:.2f} cpu_us_per_case={cpu_us:.0f} load={load:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
