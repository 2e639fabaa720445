"""Throughput and memory of rightscrawl's `corpus` crawl against a plain Scrapy spider.

    python benchmarks/run.py --pages 5000 [--repeat 3] [--server nginx|python]
    python benchmarks/run.py --pages 5000,50000 --repeat 3   # also prints the peak RSS flatness

Serves the synthetic site (`benchmarks/site.py`) with nginx from static files generated once
(`benchmarks/nginx.py`; `--server python` for the Python server), then crawls it, one crawl
after the other, with (a) `scrapy crawl corpus` from the project directory and (b) the plain
spider (`benchmarks/plain_spider.py`) run from a temporary directory outside the project, both
with the same concurrency and no delay. Each crawl is a subprocess; its peak RSS and CPU time come
from `wait4()` (the rusage of that one child), its page count and crawl time from its final Scrapy
stats (written by `benchmarks/statsdump.py`). Everything temporary goes to one directory that is
deleted at the end, and the server is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `benchmarks` is a package of the project root
    sys.path.insert(0, str(ROOT))

from benchmarks import nginx  # noqa: E402

BENCH = ROOT / "benchmarks"
STATS_EXTENSION = json.dumps({"benchmarks.statsdump.StatsDump": 0})
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    round: int
    crawler: str
    pages: int
    responses: int
    crawl_seconds: float  # Scrapy's elapsed_time_seconds: engine start to finish
    wall_seconds: float  # the whole process, interpreter start-up included
    peak_rss_kib: int
    cpu_seconds: float  # user + system of the crawl process
    server_cpu_seconds: float
    returncode: int
    check: str  # independent count (WARC captures in the provenance DB), or ""

    @property
    def pages_per_second(self) -> float:
        """Pages per second of the whole process: the headline figure."""
        return self.pages / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def crawl_pages_per_second(self) -> float:
        return self.pages / self.crawl_seconds if self.crawl_seconds else 0.0


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ behind in the temp directories
    return env


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU time of a running process, from /proc (0.0 if unavailable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)


def start_server(
    pages: int, workdir: Path, *, script: bool = False, kind: str = "python"
) -> tuple[subprocess.Popen, str]:
    """The benchmark site, `kind` "nginx" (static files) or "python" (`crawler.demo.server`)."""
    if kind == "nginx":
        return nginx.start(nginx.static_site(pages, script=script), workdir / "nginx")
    env = child_env()
    env["BENCH_PAGES"] = str(pages)
    env["BENCH_SCRIPT"] = "1" if script else "0"
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo.server", "benchmarks.site", "--stop-on-stdin-eof"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(workdir / "server.err", "wb"),  # noqa: SIM115
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line:
        server.wait()
        err = (workdir / "server.err").read_text(errors="replace")
        raise SystemExit(f"The benchmark server did not start:\n{err}")
    return server, json.loads(line)["origins"]["bench"]


def stop_server(server: subprocess.Popen) -> None:
    if server.stdin:
        server.stdin.close()  # --stop-on-stdin-eof
    else:
        server.terminate()  # nginx: SIGTERM is its fast shutdown
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def crawl_command(
    crawler: str, url: str, run_dir: Path, concurrency: int
) -> tuple[list[str], Path]:
    common = [
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", f"CONCURRENT_REQUESTS={concurrency}",
        "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
        "-s", "LOG_LEVEL=WARNING",
        "-s", f"EXTENSIONS={STATS_EXTENSION}",
        "-s", f"BENCH_STATS_FILE={run_dir / 'stats.json'}",
    ]  # fmt: skip
    if crawler.startswith("rightscrawl"):
        render = ["-a", "render=js"] if crawler == "rightscrawl-js" else []
        if crawler.startswith("rightscrawl collect="):  # --compare-collect
            render = ["-a", crawler.split(" ", 1)[1]]
        if crawler.startswith("rightscrawl registry="):  # --compare-registry
            render = ["-s", f"POLICY_REGISTRIES={works_registry(run_dir.parent, crawler)}"]
        command = [
            sys.executable, "-m", "scrapy", "crawl", "corpus", "-a", f"urls={url}", *render,
            "-s", "ALLOW_PRIVATE_ADDRESSES=true",
            "-s", f"WARC_DIR={run_dir / 'warc'}",
            "-s", f"PROVENANCE_DB_URL=sqlite:///{run_dir / 'p.sqlite'}",
            "-s", "CRAWLER_CONTACT=mailto:benchmark@example.invalid",  # silences a warning only
            *common,
        ]  # fmt: skip
        return command, ROOT
    command = [
        sys.executable, "-m", "scrapy", "runspider", str(BENCH / "plain_spider.py"),
        "-a", f"url={url}", *common,
    ]  # fmt: skip
    return command, run_dir  # outside the project: no scrapy.cfg, no project settings


def works_registry(folder: Path, crawler: str) -> str:
    """The declared registries plus one of owners, identifiers and ISCC codes (written once)."""
    from benchmarks.works_registry import write_registry
    from policies.registry import DECLARED_DIR

    entries = int(crawler.split("=", 1)[1])
    path = folder / f"works-{entries}.csv"
    if not path.exists():
        write_registry(path, entries)
    return f"{DECLARED_DIR},{path}"


def run_crawl(
    crawler: str, round_: int, url: str, tmp: Path, server: subprocess.Popen, args
) -> Result:
    run_dir = tmp / f"{round_}-{crawler}"
    run_dir.mkdir()
    command, cwd = crawl_command(crawler, url, run_dir, args.concurrency)
    server_cpu_before = cpu_seconds_of(server.pid)
    started = time.monotonic()
    with open(run_dir / "stderr.log", "wb") as stderr:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
        deadline = started + args.timeout
        while True:
            # wait4: this child's own rusage (peak RSS, CPU), unlike RUSAGE_CHILDREN.
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                print(f"  {crawler}: timed out after {args.timeout:.0f}s, killing it", flush=True)
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    server_cpu = cpu_seconds_of(server.pid) - server_cpu_before

    stats_file = run_dir / "stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    responses = int(stats.get("response_received_count", 0))
    check = ""
    if crawler.startswith("rightscrawl"):
        pages = int(stats.get("warc/captures", 0))
        db = run_dir / "p.sqlite"
        if db.exists():
            with sqlite3.connect(db) as conn:
                captures = conn.execute("SELECT count(*) FROM captures").fetchone()[0]
                excluded = conn.execute(
                    "SELECT count(*) FROM decisions WHERE outcome != 'kept'"
                ).fetchone()[0]
            conn.close()
            check = f"db: {captures} captures, {excluded} excluded"
    else:
        pages = int(stats.get("item_scraped_count", 0))
    if proc.returncode != 0 or pages != args.pages:
        tail = (run_dir / "stderr.log").read_text(errors="replace")[-3000:]
        print(
            f"  WARNING: {crawler} exited {proc.returncode} with {pages}/{args.pages} pages; "
            f"end of its output:\n{tail}",
            flush=True,
        )
    result = Result(
        round=round_,
        crawler=crawler,
        pages=pages,
        responses=responses,
        crawl_seconds=float(stats.get("elapsed_time_seconds", 0.0)),
        wall_seconds=wall,
        peak_rss_kib=usage.ru_maxrss,  # KiB on Linux
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        server_cpu_seconds=server_cpu,
        returncode=proc.returncode,
        check=check,
    )
    shutil.rmtree(run_dir, ignore_errors=True)  # WARC files can be large: free them now
    return result


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_table(results: list[Result]) -> dict[str, tuple[float, float, float]]:
    """The rounds, the medians and the ratios; returns {crawler: (pages/s, crawl pages/s, MiB)}."""
    header = (
        f"{'round':>5} {'crawler':<34} {'pages':>7} {'resp':>7} {'crawl s':>8} {'wall s':>8} "
        f"{'pages/s':>8} {'crawl p/s':>9} {'peak MiB':>9} {'cpu s':>7} {'cpu %':>6} {'srv cpu %':>9}"
        "  check"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.round:>5} {r.crawler:<34} {r.pages:>7} {r.responses:>7} {r.crawl_seconds:>8.1f} "
            f"{r.wall_seconds:>8.1f} {r.pages_per_second:>8.1f} {r.crawl_pages_per_second:>9.1f} "
            f"{r.peak_rss_kib / 1024:>9.1f} {r.cpu_seconds:>7.1f} "
            f"{100 * r.cpu_seconds / r.wall_seconds:>6.0f} "
            f"{100 * r.server_cpu_seconds / r.wall_seconds:>9.0f}  {r.check}"
        )
    print()
    summary: dict[str, tuple[float, float, float]] = {}
    cpu: dict[str, float] = {}
    first, second = dict.fromkeys(r.crawler for r in results)  # as given to run_rounds
    for crawler in (first, second):
        mine = [r for r in results if r.crawler == crawler]
        speed = statistics.median(r.pages_per_second for r in mine)
        crawl_speed = statistics.median(r.crawl_pages_per_second for r in mine)
        memory = statistics.median(r.peak_rss_kib / 1024 for r in mine)
        summary[crawler] = (speed, crawl_speed, memory)
        cpu[crawler] = statistics.median(r.pages / r.cpu_seconds for r in mine if r.cpu_seconds)
        print(
            f"{crawler:<34} median {speed:8.1f} pages/s (whole process)   "
            f"{crawl_speed:8.1f} pages/s (crawl s)   peak RSS {memory:8.1f} MiB"
        )
    (rs, rc, rm), (ps, pc, pm) = summary[first], summary[second]
    print(
        f"ratio pages/s   {first} / {second}: x{_ratio(rs, ps):.3f} (whole process)   "
        f"x{_ratio(rc, pc):.3f} (crawl s)"
    )
    print(f"ratio peak RSS  {first} / {second}: x{_ratio(rm, pm):.3f}")
    # Pages per CPU second: what the crawler costs, whatever else the machine is running.
    print(f"ratio pages/cpu-s {first} / {second}: x{_ratio(cpu[first], cpu[second]):.3f}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages",
        default="5000",
        help="pages of the site (5000); several sizes, e.g. 5000,50000, also print the flatness "
        "of peak RSS (largest vs smallest)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds, alternating order (1)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent requests (16)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per crawl (3600)")
    parser.add_argument(
        "--server",
        choices=("nginx", "python"),
        default=None,
        help="nginx serving static files (the default) or the Python server (crawler.demo.server)",
    )
    parser.add_argument(
        "--compare-collect",
        action="store_true",
        help="rightscrawl with -a collect=html against -a collect=html,documents (#12)",
    )
    parser.add_argument(
        "--compare-registry",
        type=int,
        metavar="ENTRIES",
        help="rightscrawl without and with a works-level registry of ENTRIES entries (#13)",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(n) for n in args.pages.split(",")]
    except ValueError:
        parser.error(f"--pages takes a number or numbers separated by commas, not {args.pages!r}")
    if min(sizes) < 1 or args.repeat < 1:
        parser.error("--pages and --repeat must be at least 1")
    args.server = choose_server(args.server)

    crawlers = ("rightscrawl", "plain")
    if args.compare_collect:
        crawlers = ("rightscrawl collect=html", "rightscrawl collect=html,documents")
    if args.compare_registry:
        crawlers = ("rightscrawl", f"rightscrawl registry={args.compare_registry}")
    ok = True
    summaries: dict[int, dict[str, tuple[float, float, float]]] = {}
    for pages in sizes:
        args.pages = pages
        results = run_rounds(crawlers, args)
        print()
        summaries[pages] = print_table(results)
        print()
        ok &= all(r.returncode == 0 and r.pages == pages for r in results)
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        flat = "   ".join(
            f"{crawler} x{_ratio(summaries[large][crawler][2], summaries[small][crawler][2]):.3f}"
            for crawler in crawlers
        )
        print(f"flatness peak RSS {large} / {small} pages: {flat}")
    return 0 if ok else 1


def choose_server(asked: str | None) -> str:
    """nginx unless asked otherwise; without nginx, the Python server, unless nginx was asked."""
    if asked == "python" or nginx.binary():
        return asked or "nginx"
    if asked == "nginx":
        raise SystemExit("--server nginx: nginx is not installed (apt-get install nginx)")
    print("nginx is not installed (apt-get install nginx): using the Python server", flush=True)
    return "python"


def run_rounds(crawlers: tuple[str, str], args, *, script: bool = False) -> list[Result]:
    """Both crawls of the same site, side by side in each round, the order alternating."""
    tmp = Path(tempfile.mkdtemp(prefix="rightscrawl-bench-"))
    server = None
    results: list[Result] = []
    try:
        kind = getattr(args, "server", None) or "python"
        server, url = start_server(args.pages, tmp, script=script, kind=kind)
        url = url + "/"
        pages = "pages of ~20 KB, each with a script" if script else "pages of ~20 KB"
        print(
            f"site: {url} ({args.pages} {pages}, {kind} server), concurrency {args.concurrency}, "
            f"{args.repeat} round(s), {os.cpu_count()} CPU(s)",
            flush=True,
        )
        for round_ in range(1, args.repeat + 1):
            order = crawlers if round_ % 2 else tuple(reversed(crawlers))
            for crawler in order:
                print(f"round {round_}: {crawler} …", flush=True)
                results.append(run_crawl(crawler, round_, url, tmp, server, args))
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
