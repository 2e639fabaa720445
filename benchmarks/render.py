"""Pages per second of a rendering crawl (`-a render=js`) against the same crawl without it.

    python benchmarks/render.py --pages 500 [--repeat 3] [--concurrency 8]
    python benchmarks/render.py --auto --pages 500 [--repeat 3] [--concurrency 8]

Both crawls are rightscrawl's `corpus` spider on the benchmark site (`benchmarks/site.py`), whose
pages here also write a paragraph with a script; one after the other, against one server, in the
same run, so the ratio compares like with like on this machine. Measurement as in `run.py`.

`--auto`: `-a render=auto` against `-a render=js` and no rendering, on `benchmarks/render_site.py`
(one page in ten writes its text with a script). After each crawl its WARC files are read: how
many pages have a `conversion` record (rendered) and on how many of the script pages the rendered
DOM holds the script-written text — all of them for `auto` and `js`, none without rendering.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import render_site  # noqa: E402
from benchmarks import run as bench  # noqa: E402
from benchmarks.run import Result, run_rounds  # noqa: E402

CRAWLERS = ("rightscrawl", "rightscrawl-js")
AUTO_CRAWLERS = {"plain": [], "auto": ["-a", "render=auto"], "js": ["-a", "render=js"]}


def print_table(results: list[Result]) -> None:
    header = (
        f"{'round':>5} {'crawler':<15} {'pages':>6} {'crawl s':>8} {'pages/s':>8} "
        f"{'peak MiB':>9} {'cpu s':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.round:>5} {r.crawler:<15} {r.pages:>6} {r.crawl_seconds:>8.1f} "
            f"{r.pages_per_second:>8.1f} {r.peak_rss_kib / 1024:>9.1f} {r.cpu_seconds:>7.1f}"
        )
    print()
    speed = {}
    for crawler in CRAWLERS:
        speed[crawler] = statistics.median(
            r.pages_per_second for r in results if r.crawler == crawler
        )
        print(f"{crawler:<15} median {speed[crawler]:8.1f} pages/s")
    plain, rendered = speed["rightscrawl"], speed["rightscrawl-js"]
    print(f"{'ratio':<15} rendered/plain: x{rendered / plain if plain else float('nan'):.3f}")
    print("(peak MiB and cpu s are the crawl process only; the browser runs in its own processes)")


@dataclass
class AutoResult:
    round: int
    crawler: str
    pages: int
    crawl_seconds: float  # Scrapy's elapsed_time_seconds: engine start to finish
    wall_seconds: float  # the whole process
    rendered: int  # pages with a conversion record
    captured: int  # script pages whose rendered DOM holds their script-written text
    returncode: int

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.crawl_seconds if self.crawl_seconds else 0.0


def start_auto_server(pages: int, workdir: Path) -> tuple[subprocess.Popen, str]:
    env = bench.child_env()
    env["BENCH_PAGES"] = str(pages)
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo.server", "benchmarks.render_site",
         "--stop-on-stdin-eof"],
        cwd=bench.ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(workdir / "server.err", "wb"),  # noqa: SIM115
        text=True,
    )  # fmt: skip
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line:
        server.wait()
        raise SystemExit(
            f"The benchmark server did not start:\n{(workdir / 'server.err').read_text()}"
        )
    return server, json.loads(line)["origins"]["bench"] + "/"


def script_text_found(warc_dir: Path) -> tuple[int, int]:
    """(pages with a conversion record, script pages whose DOM holds their script text)."""
    from warcio.archiveiterator import ArchiveIterator

    rendered = captured = 0
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "conversion":
                    continue
                rendered += 1
                uri = record.rec_headers.get_header("WARC-Target-URI")
                page = uri.rsplit("/", 1)[-1]
                i = int(page) if page.isdigit() else 0
                if render_site.scripted(i) and render_site.marker(i).encode() in (
                    record.content_stream().read()
                ):
                    captured += 1
    return rendered, captured


def run_auto_crawl(crawler: str, round_: int, url: str, tmp: Path, args) -> AutoResult:
    run_dir = tmp / f"{round_}-{crawler}"
    run_dir.mkdir()
    command, cwd = bench.crawl_command("rightscrawl", url, run_dir, args.concurrency)
    command += AUTO_CRAWLERS[crawler]
    started = time.monotonic()
    with open(run_dir / "stderr.log", "wb") as log:
        try:
            proc = subprocess.run(
                command, cwd=cwd, env=bench.child_env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, timeout=args.timeout, check=False,
            )  # fmt: skip
            returncode = proc.returncode
        except subprocess.TimeoutExpired:
            print(f"  {crawler}: timed out after {args.timeout:.0f}s", flush=True)
            returncode = -1
    wall = time.monotonic() - started
    stats_file = run_dir / "stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    pages = int(stats.get("warc/captures", 0))
    rendered, captured = script_text_found(run_dir / "warc")
    if returncode != 0 or pages != args.pages:
        tail = (run_dir / "stderr.log").read_text(errors="replace")[-3000:]
        print(f"  WARNING: {crawler} exited {returncode} with {pages}/{args.pages} pages:\n{tail}")
    shutil.rmtree(run_dir, ignore_errors=True)
    return AutoResult(
        round_, crawler, pages, float(stats.get("elapsed_time_seconds", 0.0)), wall,
        rendered, captured, returncode,
    )  # fmt: skip


def run_auto(args) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="rightscrawl-bench-auto-"))
    server = None
    results: list[AutoResult] = []
    script_pages = sum(1 for i in range(args.pages) if render_site.scripted(i))
    try:
        server, url = start_auto_server(args.pages, tmp)
        print(
            f"site: {url} ({args.pages} pages of ~20 KB, {script_pages} writing their text with "
            f"a script), concurrency {args.concurrency}, {args.repeat} round(s), "
            f"{os.cpu_count()} CPU(s)",
            flush=True,
        )
        crawlers = list(AUTO_CRAWLERS)
        for round_ in range(1, args.repeat + 1):
            for crawler in crawlers if round_ % 2 else reversed(crawlers):
                print(f"round {round_}: {crawler} …", flush=True)
                results.append(run_auto_crawl(crawler, round_, url, tmp, args))
    finally:
        if server is not None:
            bench.stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    header = (
        f"{'round':>5} {'render':<6} {'pages':>6} {'crawl s':>8} {'wall s':>7} {'pages/s':>8} "
        f"{'rendered':>8} {'script text':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.round:>5} {r.crawler:<6} {r.pages:>6} {r.crawl_seconds:>8.1f} {r.wall_seconds:>7.1f} "
            f"{r.pages_per_second:>8.1f} {r.rendered:>8} {r.captured:>5}/{script_pages}"
        )
    print()
    speed = {
        c: statistics.median(r.pages_per_second for r in results if r.crawler == c)
        for c in AUTO_CRAWLERS
    }
    wall = {
        c: statistics.median(r.wall_seconds for r in results if r.crawler == c)
        for c in AUTO_CRAWLERS
    }
    for crawler in AUTO_CRAWLERS:
        print(
            f"{crawler:<6} median {speed[crawler]:8.1f} pages/s   median wall {wall[crawler]:7.1f} s"
        )

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    print(
        f"ratio  auto/js pages/s x{ratio(speed['auto'], speed['js']):.2f} "
        f"(wall x{ratio(wall['js'], wall['auto']):.2f})   "
        f"auto/plain x{ratio(speed['auto'], speed['plain']):.3f}   "
        f"js/plain x{ratio(speed['js'], speed['plain']):.3f}"
    )
    complete = all(r.captured == (0 if r.crawler == "plain" else script_pages) for r in results)
    print(
        "script text captured on every script page by auto and js: " + ("yes" if complete else "NO")
    )
    ok = complete and all(r.returncode == 0 and r.pages == args.pages for r in results)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="pages of the site (500)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, alternating order (1)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent requests (8)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per crawl (3600)")
    parser.add_argument(
        "--auto",
        action="store_true",
        help="render=auto vs render=js vs none, one page in ten written by a script",
    )
    args = parser.parse_args(argv)
    if args.pages < 1 or args.repeat < 1:
        parser.error("--pages and --repeat must be at least 1")
    if args.auto:
        return run_auto(args)
    results = run_rounds(CRAWLERS, args, script=True)
    print()
    print_table(results)
    return 0 if all(r.returncode == 0 and r.pages == args.pages for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
