"""Measure arkhiv's peak memory: a small batch against a large one, and one huge page (issue 7).

    python benchmarks/bench_memory.py [SOURCE_DIR] [--pages 10,200] [--out DIR]
                                      [--json-out FILE] [--quick] [--jobs N] [--doc-pages N]

Issue 7, goal 3: the peak RSS of ingesting 200 pages is at most 1.25 times that of 10 pages
(streaming, not accumulating), and a 600 dpi A3 page does not blow up memory.

SOURCE_DIR (default: the repository's samples/) is any folder tree of page images; every
frame of a multi-page TIFF is a page. From them this tool makes N distinct pages: the source
pages taken in turn, each with a tiny dot pattern in its bottom-right corner that encodes its
number, so the OCR work is the same but no two files have the same content hash (arkhiv OCRs
identical pages only once). They are laid out as a realistic batch: one folder (document) per
--doc-pages pages.

For each N it runs arkhiv.api.ingest in a freshly spawned process into a fresh archive, and
records the peak RSS of the ingest process (VmHWM: a spawned process's RUSAGE_SELF ru_maxrss
includes its parent's peak at the time it was started), of the largest child
(RUSAGE_CHILDREN: an OCR worker or a program it ran, such as Tesseract or Ghostscript), the
ingest process's RSS after every page, and the sum of the whole process tree's RSS sampled
from /proc. The ratio of the largest N to the smallest is given beside the goal of 1.25.

Then it makes one A3 page at 600 dpi (7016 x 9921 px, 8-bit gray PNG, a source page scaled up
so it has text) and one A4 page at 300 dpi made the same way (the reference), and ingests
each alone in the same way.

It prints a table and writes JSON (default bench-out/memory.json). This is a measurement tool:
nothing here asserts a timing or a memory figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from procstat import (
    busy_cpu_seconds,
    machine_info,
    own_cpu_seconds,
    proc_status_kib,
    run_in_child,
)

REPO = Path(__file__).resolve().parent.parent
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".jp2")
DEFAULT_PAGES = (10, 200)
QUICK_PAGES = (5, 40)
DOC_PAGES = 20  # pages per document (folder) of the generated batch
GOAL_RATIO = 1.25  # issue 7, goal 3: RSS(200 pages) <= 1.25 x RSS(10 pages)
A3_600 = (7016, 9921)  # 297 x 420 mm at 600 dpi
A4_300 = (2480, 3508)  # 210 x 297 mm at 300 dpi
SAMPLE_SECONDS = 0.25  # how often the process tree's RSS is sampled from /proc
MIB = 1024 * 1024


# ----------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Template:
    """One source page, decoded once: the image, its format and its DPI (None: not recorded)."""

    name: str
    image: Image.Image
    format: str
    dpi: tuple[float, float] | None


def load_templates(source: Path) -> list[Template]:
    """Every page of every image under `source`, in name order (TIFF frames one by one)."""
    files = sorted(
        p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    templates: list[Template] = []
    for path in files:
        with Image.open(path) as im:
            fmt = str(im.format or "PNG")
            for frame in range(int(getattr(im, "n_frames", 1))):
                im.seek(frame)
                page = im.copy()
                if page.mode not in ("1", "L", "RGB"):
                    page = page.convert("RGB")
                name = f"{path.relative_to(source)}#{frame + 1}"
                templates.append(Template(name, page, fmt, _dpi(im.info.get("dpi"))))
    return templates


def _dpi(value: Any) -> tuple[float, float] | None:
    """The recorded DPI, or None when there is none or it is unusable (below 10)."""
    try:
        x, y = float(value[0]), float(value[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (x, y) if x >= 10 and y >= 10 else None


def stamp(im: Image.Image, number: int) -> Image.Image:
    """A copy of `im` with `number` written as 2 + 16 dark 3-px dots in the bottom-right corner
    (the first two always dark): a different file, the same OCR work."""
    out = im.copy()
    draw = ImageDraw.Draw(out)
    black: int | tuple[int, int, int] = 0 if out.mode in ("1", "L") else (0, 0, 0)
    bits = [1, 1] + [(number >> b) & 1 for b in range(16)]
    x0 = out.width - 12 - 6 * len(bits)
    y0 = out.height - 15
    for i, bit in enumerate(bits):
        if bit:
            x = x0 + 6 * i
            draw.rectangle((x, y0, x + 2, y0 + 2), fill=black)
    return out


def save_page(im: Image.Image, fmt: str, dpi: tuple[float, float] | None, stem: Path) -> Path:
    """Save in the source's kind of file: PNG, TIFF (Group 4 when bilevel) or JPEG."""
    extra: dict[str, Any] = {"dpi": dpi} if dpi else {}
    if fmt == "TIFF":
        path = stem.with_suffix(".tif")
        compression = "group4" if im.mode == "1" else "tiff_lzw"
        im.save(path, format="TIFF", compression=compression, **extra)
    elif fmt == "JPEG":
        path = stem.with_suffix(".jpg")
        im.save(path, format="JPEG", quality=92, **extra)
    else:
        path = stem.with_suffix(".png")
        im.save(path, format="PNG", **extra)
    return path


def make_batch(templates: Sequence[Template], n: int, dest: Path, doc_pages: int) -> list[Path]:
    """N distinct pages in dest/doc_001/001.png ..., `doc_pages` pages a document."""
    paths: list[Path] = []
    for i in range(n):
        t = templates[i % len(templates)]
        folder = dest / f"doc_{i // doc_pages + 1:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        paths.append(
            save_page(stamp(t.image, i + 1), t.format, t.dpi, folder / f"{i % doc_pages + 1:03d}")
        )
    hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    if len(hashes) != len(paths):
        raise RuntimeError(f"only {len(hashes)} distinct files among {len(paths)} pages")
    return paths


def make_large_page(template: Template, size: tuple[int, int], dpi: int, dest: Path) -> Path:
    """A source page scaled to `size` (8-bit gray, so it keeps its text), as a PNG at `dpi`."""
    gray = template.image.convert("L")
    big = gray.resize(size, Image.Resampling.LANCZOS)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "001.png"
    big.save(path, format="PNG", dpi=(dpi, dpi))
    return path


# ----------------------------------------------------------------------------- the ingest process


def _rss_kib() -> int | None:
    """This process's current resident set size (VmRSS), KiB."""
    return proc_status_kib("VmRSS")


def _ingest(params: dict[str, Any]) -> dict[str, Any]:
    # As arkhiv's workers set it for themselves: one Tesseract thread per page.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    from arkhiv.api import ingest
    from arkhiv.config import load_pipeline, load_settings

    archive = Path(params["archive"])
    settings = load_settings(  # hermetic: an empty config file, no ARKHIV_* variables
        config_file=Path(params["config"]),
        env={},
        overrides={"": {"archive": str(archive)}, "ingest": {"jobs": params["jobs"]}},
    )
    pipeline = load_pipeline(params["pipeline"], settings)
    trace = bool(params.get("tracemalloc"))
    if trace:
        tracemalloc.start(12)
    snapshots: list[Any] = []
    series: list[tuple[float, int, int | None]] = []  # (s, pages done, RSS KiB) after each page
    documents = 0
    rss_before = _rss_kib()
    hwm_before = proc_status_kib("VmHWM")
    start = time.perf_counter()

    def progress(event: str, info: dict[str, object]) -> None:
        nonlocal documents
        if event == "page":
            series.append((round(time.perf_counter() - start, 2), len(series) + 1, _rss_kib()))
        elif event == "document":
            documents += 1
            if trace and documents == 1:
                snapshots.append(tracemalloc.take_snapshot())

    report = ingest(Path(params["input"]), settings, pipeline, progress=progress)
    wall = time.perf_counter() - start
    self_ru = resource.getrusage(resource.RUSAGE_SELF)
    child_ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = {
        "wall_s": round(wall, 2),
        "report": {**report.counts(), "failures": report.failures[:20]},
        # VmHWM, not RUSAGE_SELF: Linux keeps ru_maxrss across fork + exec, so a spawned
        # process's ru_maxrss is at least its parent's peak RSS when it was started (here the
        # measuring process, which held the page images). VmHWM belongs to the new process.
        "peak_rss_self_mib": _mib_or_none(proc_status_kib("VmHWM")),
        "ru_maxrss_self_mib (includes the spawning parent's peak)": round(
            self_ru.ru_maxrss / 1024, 1
        ),
        "maxrss_children_mib": round(child_ru.ru_maxrss / 1024, 1),
        "rss_before_ingest_mib": None if rss_before is None else round(rss_before / 1024, 1),
        "peak_rss_before_ingest_mib": _mib_or_none(hwm_before),
        "rss_after_ingest_mib": _mib_or_none(_rss_kib()),
        "rss_after_each_page": [(t, n, _mib_or_none(k)) for t, n, k in series],
        "cpu_self_s": round(self_ru.ru_utime + self_ru.ru_stime, 1),
        "cpu_children_s": round(child_ru.ru_utime + child_ru.ru_stime, 1),
        "omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT"),
    }
    if trace and snapshots:
        end = tracemalloc.take_snapshot()
        diff = end.compare_to(snapshots[0], "traceback")
        result["tracemalloc_growth_after_first_document"] = [
            {
                "size_diff_kib": round(d.size_diff / 1024, 1),
                "count_diff": d.count_diff,
                "where": d.traceback.format()[-8:],
            }
            for d in diff[:15]
        ]
        result["tracemalloc_traced_mib"] = [
            round(x / MIB, 1) for x in tracemalloc.get_traced_memory()
        ]
    return result


def _mib_or_none(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


# ----------------------------------------------------------------------------- the parent


def _tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Linux /proc/PID/task/TID/children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def _status(pid: int) -> tuple[str, int] | None:
    """(command name, VmRSS KiB) of a process, None when it is gone."""
    try:
        name, rss = "?", 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Name:"):
                name = line.split(None, 1)[1].strip()
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        return name, rss
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class TreeSampler:
    """Samples the RSS of a process tree from another thread: the peak of the sum, and the
    peak of each program (by command name) at any one time."""

    pid: int
    peak_sum_kib: int = 0
    peak_processes: int = 0
    peak_by_name: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total, count = 0, 0
            for pid in _tree(self.pid):
                st = _status(pid)
                if st is None:
                    continue
                name, rss = st
                total += rss
                count += 1
                self.peak_by_name[name] = max(self.peak_by_name.get(name, 0), rss)
            self.peak_sum_kib = max(self.peak_sum_kib, total)
            self.peak_processes = max(self.peak_processes, count)
            self.samples += 1
            self._stop.wait(SAMPLE_SECONDS)

    def as_dict(self) -> dict[str, Any]:
        return {
            "peak_tree_rss_sum_mib": round(self.peak_sum_kib / 1024, 1),
            "peak_processes": self.peak_processes,
            "peak_rss_by_program_mib": {
                k: round(v / 1024, 1)
                for k, v in sorted(self.peak_by_name.items(), key=lambda kv: -kv[1])
            },
            "samples": self.samples,
            "sample_interval_s": SAMPLE_SECONDS,
        }


def run_ingest(
    name: str, input_dir: Path, work: Path, jobs: int, pipeline: str, trace: bool
) -> dict[str, Any]:
    """Ingest `input_dir` into a fresh archive in a freshly spawned process; what it used."""
    archive = work / f"archive-{name}"
    config = work / "empty.toml"
    config.write_text("", encoding="utf-8")
    params = {
        "input": str(input_dir),
        "archive": str(archive),
        "config": str(config),
        "jobs": jobs,
        "pipeline": pipeline,
        "tracemalloc": trace,
    }
    for p in input_dir.rglob("*"):  # warm the file cache: no run pays for the first read
        if p.is_file():
            p.read_bytes()
    load_before = round(os.getloadavg()[0], 2)
    busy0, own0, t0 = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    samplers: list[TreeSampler] = []

    def sample(pid: int) -> None:
        samplers.append(TreeSampler(pid))
        samplers[0].start()

    result, exitcode = run_in_child(_ingest, params, started=sample)
    sampler = samplers[0]
    sampler.stop()
    outer = time.perf_counter() - t0
    own = own_cpu_seconds() - own0
    busy1 = busy_cpu_seconds()
    other = None if busy0 is None or busy1 is None else (busy1 - busy0) - own
    cpus = os.cpu_count() or 1
    result.update(
        {
            "exitcode": exitcode,
            "process_wall_s (incl. python start-up and imports)": round(outer, 2),
            "tree": sampler.as_dict(),
            "other_processes_cpu_share": None
            if other is None or outer <= 0
            else round(max(0.0, other) / (outer * cpus), 3),
            "loadavg_1min_before": load_before,
            "loadavg_1min_after": round(os.getloadavg()[0], 2),
        }
    )
    return result


# ----------------------------------------------------------------------------- report


def _ratio(value: float | None, ref: float | None) -> float | None:
    if value is None or ref is None or ref == 0:
        return None
    return round(value / ref, 3)


def _get(run: dict[str, Any] | None, key: str) -> float | None:
    if run is None or "error" in run:
        return None
    value = run.get(key)
    return None if value is None else float(value)


def compare(runs: dict[str, dict[str, Any]], counts: Sequence[int]) -> dict[str, Any]:
    """Largest N against smallest N (beside the goal), and A3 600 dpi against A4 300 dpi."""
    out: dict[str, Any] = {}
    if len(counts) >= 2:
        small, large = runs.get(f"pages_{counts[0]}"), runs.get(f"pages_{counts[-1]}")
        rows: dict[str, Any] = {}
        for label, key in (
            ("ingest_process", "peak_rss_self_mib"),
            ("largest_child", "maxrss_children_mib"),
        ):
            a, b = _get(small, key), _get(large, key)
            r = _ratio(b, a)
            rows[label] = {
                f"pages_{counts[0]}_mib": a,
                f"pages_{counts[-1]}_mib": b,
                "ratio": r,
                "goal": GOAL_RATIO,
                "within_goal": None if r is None else r <= GOAL_RATIO,
            }
        a = None if small is None else small.get("tree", {}).get("peak_tree_rss_sum_mib")
        b = None if large is None else large.get("tree", {}).get("peak_tree_rss_sum_mib")
        rows["tree_sum_sampled"] = {
            f"pages_{counts[0]}_mib": a,
            f"pages_{counts[-1]}_mib": b,
            "ratio": _ratio(b, a),
        }
        out["pages"] = rows
    a4, a3 = runs.get("a4_300dpi"), runs.get("a3_600dpi")
    if a4 is not None and a3 is not None:
        out["a3_vs_a4"] = {
            key: {"a4_300dpi": _get(a4, key), "a3_600dpi": _get(a3, key)}
            | {"ratio": _ratio(_get(a3, key), _get(a4, key))}
            for key in ("peak_rss_self_mib", "maxrss_children_mib", "wall_s")
        }
    return out


def _fmt(x: Any, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def render(result: dict[str, Any]) -> str:
    """The tables (Markdown, so they can go into docs/benchmarks.md as they are)."""
    runs: dict[str, dict[str, Any]] = result["runs"]
    lines = [
        "| run | pages | docs | pages ok | wall s | ingest process MiB | largest child MiB "
        "| tree sum MiB | RSS before ingest MiB | RSS after page 1 / last MiB | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in runs.items():
        if "error" in r:
            lines.append(f"| {name} | {r.get('pages', '-')} | failed: see JSON |")
            continue
        series = r.get("rss_after_each_page") or []
        first_last = f"{_fmt(series[0][2])} / {_fmt(series[-1][2])}" if series else "-"
        other = r.get("other_processes_cpu_share")
        lines.append(
            f"| {name} | {r['pages']} | {r['documents']} | {r['report']['pages_ok']} "
            f"| {r['wall_s']:.1f} | {_fmt(r['peak_rss_self_mib'])} "
            f"| {_fmt(r['maxrss_children_mib'])} | {_fmt(r['tree']['peak_tree_rss_sum_mib'])} "
            f"| {_fmt(r['rss_before_ingest_mib'])} | {first_last} "
            f"| {_fmt(None if other is None else other * 100, '.0f')}% |"
        )
    comp = result["comparison"]
    if "pages" in comp:
        counts = result["page_counts"]
        lines += [
            "",
            f"| peak RSS | {counts[0]} pages MiB | {counts[-1]} pages MiB | ratio | goal |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, row in comp["pages"].items():
            a, b = row[f"pages_{counts[0]}_mib"], row[f"pages_{counts[-1]}_mib"]
            goal = f"<= {row['goal']}" if "goal" in row else "-"
            lines.append(
                f"| {label} | {_fmt(a)} | {_fmt(b)} | {_fmt(row['ratio'], '.2f')} | {goal} |"
            )
    if "a3_vs_a4" in comp:
        lines += [
            "",
            "| one page alone | A4 300 dpi | A3 600 dpi | ratio |",
            "|---|---:|---:|---:|",
        ]
        for key, row in comp["a3_vs_a4"].items():
            lines.append(
                f"| {key} | {_fmt(row['a4_300dpi'])} | {_fmt(row['a3_600dpi'])} "
                f"| {_fmt(row['ratio'], '.2f')} |"
            )
        a3 = result["runs"].get("a3_600dpi", {})
        if "tree" in a3:
            progs = ", ".join(f"{k} {v}" for k, v in a3["tree"]["peak_rss_by_program_mib"].items())
            lines.append(f"A3 peak RSS by program (sampled, MiB): {progs}")
    failures = {
        n: r.get("error") or r["report"]["failures"]
        for n, r in runs.items()
        if "error" in r or r["report"]["failures"]
    }
    if failures:
        lines.append(f"failures: {json.dumps(failures, ensure_ascii=False)[:2000]}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def _page_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text}") from e
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError("page counts must be 1 or more")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "source_dir", type=Path, nargs="?", default=REPO / "samples", help="default: samples/"
    )
    ap.add_argument(
        "--pages",
        type=_page_counts,
        default=None,
        help="page counts to compare, e.g. 10,200 (the default; --quick: 5,40)",
    )
    ap.add_argument("--quick", action="store_true", help="5 and 40 pages, no A3/A4 pages")
    ap.add_argument("--out", type=Path, default=Path("bench-out"), help="default: bench-out")
    ap.add_argument("--json-out", type=Path, default=None, help="default: OUT/memory.json")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="default: all cores")
    ap.add_argument("--doc-pages", type=int, default=DOC_PAGES, help="pages a document (20)")
    ap.add_argument("--pipeline", default="default", help="arkhiv pipeline name or .toml path")
    ap.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace Python allocations in the ingest process (slower, more memory): the "
        "growth from the first finished document to the end goes into the JSON",
    )
    args = ap.parse_args(argv)
    if args.jobs < 1 or args.doc_pages < 1:
        ap.error("--jobs and --doc-pages must be 1 or more")
    counts: tuple[int, ...] = args.pages or (QUICK_PAGES if args.quick else DEFAULT_PAGES)
    templates = load_templates(args.source_dir)
    if not templates:
        ap.error(f"{args.source_dir}: no page images")
    json_out: Path = args.json_out or args.out / "memory.json"
    json_out.parent.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    print(
        f"{len(templates)} source pages from {args.source_dir}; page counts "
        f"{', '.join(map(str, counts))}; jobs={args.jobs}; {args.doc_pages} pages a document",
        flush=True,
    )

    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp_s:
        tmp = Path(tmp_s)
        plan: list[tuple[str, Path, int, int]] = []  # (name, input, pages, documents)
        for n in counts:
            src = tmp / f"input-{n}"
            make_batch(templates, n, src, args.doc_pages)
            plan.append((f"pages_{n}", src, n, -(-n // args.doc_pages)))
        if not args.quick:
            gray = next((t for t in templates if t.image.mode != "1"), templates[0])
            for name, size, dpi in (("a4_300dpi", A4_300, 300), ("a3_600dpi", A3_600, 600)):
                src = tmp / f"input-{name}"
                make_large_page(gray, size, dpi, src / name)
                plan.append((name, src, 1, 1))
        for name, src, n, docs in plan:
            print(f"running {name} ({n} pages) ...", end=" ", flush=True)
            r = run_ingest(name, src, tmp, args.jobs, args.pipeline, args.tracemalloc)
            r = {"pages": n, "documents": docs, **r}
            runs[name] = r
            if "error" in r:
                print("FAILED", flush=True)
            else:
                print(
                    f"{r['wall_s']:.1f} s, ingest process {r['peak_rss_self_mib']} MiB, "
                    f"largest child {r['maxrss_children_mib']} MiB",
                    flush=True,
                )

    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "source_dir": str(args.source_dir.resolve()),
        "source_pages": [t.name for t in templates],
        "page_counts": list(counts),
        "doc_pages": args.doc_pages,
        "jobs": args.jobs,
        "pipeline": args.pipeline,
        "quick": args.quick,
        "large_pages": None
        if args.quick
        else {
            "a4_300dpi_px": list(A4_300),
            "a3_600dpi_px": list(A3_600),
            "mode": "L",
            "format": "PNG",
        },
        "machine": machine,
        "finished_loadavg": [round(x, 2) for x in os.getloadavg()],
        "measuring_process_maxrss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "runs": runs,
        "comparison": compare(runs, counts),
    }
    json_out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print()
    print(render(result))
    print(f"\nJSON: {json_out}")
    return 1 if any("error" in r for r in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
