"""Redaction benchmark (issue 14): the release copy of a long PDF against rendering it alone.

    python bench/redact.py [--quick] [--dpi N]

No database: the redaction engine is a pure package. Generates (not timed) a 300-page A4 PDF
(``--quick``: 30 pages) of Chinese text with the CJK font, each page naming a third party, an
ID number and a mobile number; ``suggest`` finds them (timed, reported as ``suggest_s``), which
gives three regions a page. Then, each in a fresh subprocess so that its peak memory (the
process's maximum resident set, ``ru_maxrss``: PDFium's and qpdf's C memory included, which
tracemalloc would miss) is its own, alternating, best of 2 (``--quick``: 1):

- floor: PDFium renders every page at the release's dpi (the same renderer, the same call),
  nothing else;
- release: ``build_release`` of every page with its three regions — render, paint, encode,
  labels and footer, write, hash.

The text is black, so the engine renders those pages in grey (``redaction.render.is_grey``)
while the floor renders RGB, as a viewer does; the same document with a red title line on
every page (the colour path: RGB render and RGB JPEG) is measured too, once, and reported as
``colour_ratio``.

and once, a 50 MB PDF (50 pages of incompressible 1 MB images, generated) through what an
upload does: ``sniff_file``, ``inspect`` and the SHA-256, streamed from disk
(``upload_peak_mb``); and its reviewable copy, ``to_pdf`` (``review_peak_mb``).

Prints the figures and ends with ``RESULT ratio=… release_s=… floor_s=… peak_mb=…
upload_peak_mb=…``. Bars (docs/benchmarks.md): ratio ≤ 1.5, peak < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FOOTER = "申请编号 GK-2026-000123 第 {page} 页 共 {pages} 页"
LABEL = "第十五条 个人隐私"
NAMES = ["王小明", "李红梅", "赵建国", "陈晓燕", "刘志强"]
FILLER = (
    "根据《中华人民共和国政府信息公开条例》的规定，本机关对申请人提出的政府信息公开申请进行了"
    "审查，现将有关情况说明如下：经检索，本机关保存有申请所涉及的会议纪要、往来函件和审批材料，"
    "其中部分内容涉及第三方的个人信息，依法作区分处理后予以公开。"
)


def make_pdf(path: str, pages: int, *, colour: bool = False) -> None:
    """Black text on white; with ``colour``, each page's first line in red (a 红头)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from redaction import fonts

    font = fonts.font_name()
    canvas = Canvas(path, pagesize=A4, invariant=1)
    width, height = A4
    per_line = 38
    body = FILLER * 20
    for number in range(pages):
        canvas.setFont(font, 11)
        name = NAMES[number % len(NAMES)]
        lines = [f"第 {number + 1} 份材料 关于{name}同志的情况说明"]
        for line in range(30):
            start = (number * 7 + line * per_line) % (len(FILLER) * 10)
            lines.append(body[start : start + per_line])
        lines[8] = f"身份证号：{id_number(number)}  籍贯：贵州省安顺市"
        lines[17] = (
            f"联系电话：1{3 + number % 7}{number % 10}{(number * 7919) % 100000000:08d}  地址：略"
        )
        for row, text in enumerate(lines):
            red = 0.8 if colour and row == 0 else 0
            canvas.setFillColorRGB(red, 0, 0)
            canvas.drawString(56, height - 64 - row * 22, text)
        canvas.showPage()
    canvas.save()


def id_number(seed: int) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    body = f"520402{1950 + seed % 50}{1 + seed % 12:02d}{1 + seed % 28:02d}{seed % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def make_big_pdf(path: str, megabytes: int) -> None:
    """``megabytes`` pages, each one uncompressed image of 1 MB of noise."""
    import pikepdf

    pdf = pikepdf.new()
    side = 577  # 577 * 577 * 3 ≈ 1 MB
    for _ in range(megabytes):
        image = pikepdf.Stream(pdf, os.urandom(side * side * 3))
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width = image.Height = side
        image.BitsPerComponent, image.ColorSpace = 8, pikepdf.Name.DeviceRGB
        page = pdf.add_blank_page(page_size=(595, 842))
        name = page.add_resource(image, pikepdf.Name.XObject)
        page.contents_add(pdf.make_stream(f"q 500 0 0 500 40 200 cm {name} Do Q".encode()))
    pdf.save(path, compress_streams=False)
    pdf.close()


# --- the measured steps, each run in a child process -------------------------------------------


def child_floor(pdf_path: str, dpi: int) -> dict:
    import pypdfium2 as pdfium

    started = time.perf_counter()
    document = pdfium.PdfDocument(pdf_path)
    document.init_forms()
    for index in range(len(document)):
        page = document[index]
        page.render(scale=dpi / 72, may_draw_forms=True, rev_byteorder=True)
        page.close()
    document.close()
    return {"seconds": time.perf_counter() - started}


def child_release(pdf_path: str, plan_path: str, out_path: str, dpi: int) -> dict:
    from redaction import PagePlan, Region, build_release, fonts

    fonts.font_name()  # the font is parsed once per process, not per release: not timed
    with open(plan_path) as f:
        plan = [
            PagePlan(page["index"], regions=[Region(tuple(r), LABEL) for r in page["regions"]])
            for page in json.load(f)
        ]
    started = time.perf_counter()
    info = build_release(pdf_path, plan, out_path, footer=FOOTER, dpi=dpi)
    return {
        "seconds": time.perf_counter() - started,
        "pages": info.pages,
        "bytes": os.path.getsize(out_path),
    }


def child_upload(pdf_path: str) -> dict:
    from redaction import inspect, sha256_of, sniff_file

    started = time.perf_counter()
    with open(pdf_path, "rb") as f:
        kind = sniff_file(f)
    info = inspect(pdf_path, kind, max_pages=2000)
    digest = sha256_of(pdf_path)
    return {"seconds": time.perf_counter() - started, "pages": len(info.pages), "sha": digest}


def child_review(pdf_path: str, out_path: str) -> dict:
    from redaction import to_pdf

    started = time.perf_counter()
    to_pdf(pdf_path, "pdf", out_path)
    return {"seconds": time.perf_counter() - started, "bytes": os.path.getsize(out_path)}


CHILDREN = {
    "floor": child_floor,
    "release": child_release,
    "upload": child_upload,
    "review": child_review,
}


def run_child(step: str, *args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def write_plan(source: str, pages: int, plan_path: str) -> str:
    """Three regions a page, from ``suggest`` (the name, the ID number, the mobile)."""
    from redaction import suggest

    plan: dict[int, list] = {}
    for item in suggest(source, NAMES):
        plan.setdefault(item.page, []).extend(item.rects)
    counts = sorted({len(regions) for regions in plan.values()})
    if len(plan) != pages or counts != [3]:
        sys.exit(f"expected 3 suggestions on each of {pages} pages, got {counts}")
    with open(plan_path, "w") as f:
        json.dump([{"index": i, "regions": plan[i]} for i in sorted(plan)], f)
    return plan_path


def measure(title: str, source: str, plan_path: str, out: str, dpi: int, rounds: int):
    """Floor and release alternately, ``rounds`` times; the best of each and the peak."""
    floors, releases = [], []
    for _ in range(rounds):
        floors.append(run_child("floor", source, dpi))
        releases.append(run_child("release", source, plan_path, out, dpi))
    floor = min(floors, key=lambda r: r["seconds"])
    release = min(releases, key=lambda r: r["seconds"])
    peak = max(r["peak_mb"] for r in releases)
    print(f"{title}:")
    for name, runs in (("floor", floors), ("release", releases)):
        print(
            f"  {name}: "
            + ", ".join(f"{r['seconds']:.2f} s" for r in runs)
            + f"; peak {max(r['peak_mb'] for r in runs):.0f} MB"
        )
    print(
        f"  release copy: {release['pages']} pages, {release['bytes'] / 1e6:.1f} MB "
        f"({release['bytes'] / release['pages'] / 1e3:.0f} kB a page); "
        f"ratio {release['seconds'] / floor['seconds']:.2f}"
    )
    return floor, release, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 pages, one run each")
    parser.add_argument("--dpi", type=int, default=None, help="default: the engine's")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        step, *args = options.child
        result = CHILDREN[step](*[int(a) if a.isdigit() else a for a in args])
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    from redaction.release import DEFAULT_DPI

    dpi = options.dpi or DEFAULT_DPI
    pages = 30 if options.quick else 300
    rounds = 1 if options.quick else 2
    with tempfile.TemporaryDirectory(prefix="bench-redact-") as workdir:
        source = os.path.join(workdir, "source.pdf")
        make_pdf(source, pages)
        started = time.perf_counter()
        plan_path = write_plan(source, pages, os.path.join(workdir, "plan.json"))
        suggest_s = time.perf_counter() - started
        out = os.path.join(workdir, "release.pdf")
        print(f"source: {pages} pages, {os.path.getsize(source) / 1e6:.1f} MB; dpi {dpi}")
        print(f"suggest: {3 * pages} suggestions in {suggest_s:.2f} s")
        floor, release, peak = measure("black text", source, plan_path, out, dpi, rounds)
        coloured = os.path.join(workdir, "colour.pdf")
        make_pdf(coloured, pages, colour=True)
        colour_plan = write_plan(coloured, pages, os.path.join(workdir, "colour.json"))
        colour_floor, colour_release, colour_peak = measure(
            "red title line", coloured, colour_plan, out, dpi, 1
        )
        peak = max(peak, colour_peak)
        colour_ratio = colour_release["seconds"] / colour_floor["seconds"]

        big = os.path.join(workdir, "big.pdf")
        make_big_pdf(big, 50)
        upload = run_child("upload", big)
        review = run_child("review", big, os.path.join(workdir, "big-review.pdf"))
        print(
            f"upload of a {os.path.getsize(big) / 1e6:.0f} MB PDF: sniff+inspect+sha256 "
            f"{upload['seconds']:.2f} s, peak {upload['peak_mb']:.0f} MB; to_pdf "
            f"{review['seconds']:.2f} s, peak {review['peak_mb']:.0f} MB"
        )
    ratio = release["seconds"] / floor["seconds"]
    print(
        f"bars: ratio ≤ 1.5 {'met' if ratio <= 1.5 else 'MISSED'}; "
        f"peak < 500 MB {'met' if peak < 500 else 'MISSED'}"
    )
    print(
        f"RESULT ratio={ratio:.2f} release_s={release['seconds']:.2f} "
        f"floor_s={floor['seconds']:.2f} peak_mb={peak:.0f} "
        f"upload_peak_mb={upload['peak_mb']:.0f} review_peak_mb={review['peak_mb']:.0f} "
        f"colour_ratio={colour_ratio:.2f} suggest_s={suggest_s:.2f} pages={pages} dpi={dpi}"
    )


if __name__ == "__main__":
    main()
