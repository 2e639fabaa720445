"""Pages per second of one crawl shared by N workers (distributed mode) against one process.

    python benchmarks/distributed.py --pages 5000 [--workers 2] [--repeat 1] [--json FILE]

Needs the Redis server on 127.0.0.1:6379 and the PostgreSQL server on 127.0.0.1:5432 (database
`test`, trust auth) of this machine. Every crawl is rightscrawl's `corpus` spider on the benchmark
site (`benchmarks/site.py`), in the same run against one server: a plain single process
(SQLite), one distributed worker, then N workers started together; the distributed ones share a
frontier in Redis and one PostgreSQL schema. Per-origin concurrency is the same in all three
(`--concurrency`, counted across workers when distributed), so the ratio shows what sharing
costs and what more processes buy on this machine — not more load on the site.

It also prints, per distributed crawl, the Redis round trips per request (the workers' stat
`distributed/redis_round_trips` over their `downloader/request_count`), the PostgreSQL rows
written per page and the WARC bytes per page; `--json FILE` writes every figure for
`benchmarks/scaling.py`, the 100-million-pages-a-day model.
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
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import (  # noqa: E402
    ROOT,
    STATS_EXTENSION,
    child_env,
    start_server,
    stop_server,
)

REDIS = "redis://127.0.0.1:6379/0"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def worker_command(url: str, run_dir: Path, db_url: str, args, crawl_id: str | None) -> list[str]:
    command = [
        sys.executable, "-m", "scrapy", "crawl", "corpus", "-a", f"urls={url}",
        "-s", "ALLOW_PRIVATE_ADDRESSES=true",
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", f"CONCURRENT_REQUESTS={args.concurrency}",
        "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
        "-s", "LOG_LEVEL=WARNING",
        "-s", f"EXTENSIONS={STATS_EXTENSION}",
        "-s", f"BENCH_STATS_FILE={run_dir / 'stats.json'}",
        "-s", f"WARC_DIR={run_dir / 'warc'}",
        "-s", f"PROVENANCE_DB_URL={db_url}",
        "-s", "CRAWLER_CONTACT=mailto:benchmark@example.invalid",
    ]  # fmt: skip
    if crawl_id:
        command += [
            "-s",
            f"DISTRIBUTED_REDIS_URL={REDIS}",
            "-s",
            f"DISTRIBUTED_CRAWL_ID={crawl_id}",
        ]
    return command


def postgres_schema() -> tuple[str, object]:
    from sqlalchemy import text

    from pipelines import models

    engine = models.create_engine(POSTGRES)
    name = f"rc_bench_{uuid.uuid4().hex[:10]}"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {name}"))
    return name, engine


def count_rows(name: str, engine) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT count(*) FROM {name}.{table}")).scalar())
            for table in ("runs", "decisions", "captures", "evidence")
        }


def drop_schema(name: str, engine) -> None:
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


def clear_redis(crawl_id: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(match=f"rightscrawl:{crawl_id}:*"):
        client.delete(key)
    client.close()


def run_group(label: str, url: str, tmp: Path, workers: int, args, distributed: bool) -> dict:
    """Start `workers` crawls together; the group's speed is its pages over its longest crawl."""
    group_dir = tmp / label
    group_dir.mkdir()
    crawl_id = f"bench-{uuid.uuid4().hex[:10]}" if distributed else None
    schema = None
    if distributed:
        schema, engine = postgres_schema()
        db_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    else:
        db_url = f"sqlite:///{group_dir / 'p.sqlite'}"
    processes = []
    started = time.monotonic()
    for n in range(workers):
        run_dir = group_dir / f"w{n}"
        run_dir.mkdir()
        log = open(run_dir / "stderr.log", "wb")  # noqa: SIM115
        command = worker_command(url, run_dir, db_url, args, crawl_id)
        processes.append(
            (
                run_dir,
                log,
                subprocess.Popen(command, cwd=ROOT, env=child_env(), stdout=log, stderr=log),
            )
        )
    pages, elapsed, failures, requests, round_trips, warc_bytes = 0, [], 0, 0, 0, 0
    for run_dir, log, process in processes:
        failures += process.wait(timeout=args.timeout) != 0
        log.close()
        stats_file = run_dir / "stats.json"
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
        pages += int(stats.get("warc/captures", 0))
        requests += int(stats.get("downloader/request_count", 0))
        round_trips += int(stats.get("distributed/redis_round_trips", 0))
        elapsed.append(float(stats.get("elapsed_time_seconds", 0.0)))
        warc_bytes += sum(f.stat().st_size for f in (run_dir / "warc").glob("*.warc.gz*"))
    wall = time.monotonic() - started
    rows = {}
    if distributed:
        clear_redis(crawl_id)
        rows = count_rows(schema, engine)
        drop_schema(schema, engine)
    crawl_seconds = max(elapsed) if elapsed else wall
    if failures or pages != args.pages:
        print(f"  WARNING: {label}: {failures} worker(s) failed, {pages}/{args.pages} pages")
    return {
        "label": label,
        "workers": workers,
        "pages": pages,
        "crawl_seconds": crawl_seconds,
        "wall_seconds": wall,
        "pages_per_second": pages / crawl_seconds if crawl_seconds else 0.0,
        "requests": requests,
        "redis_round_trips": round_trips,
        "round_trips_per_request": round_trips / requests if requests else 0.0,
        "postgres_rows": rows,
        "warc_bytes": warc_bytes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5000, help="pages of the site (5000)")
    parser.add_argument("--workers", type=int, default=2, help="distributed workers (2)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (1)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests per origin (16)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per crawl (3600)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="rightscrawl-bench-distributed-"))
    server, url = start_server(args.pages, tmp)
    results = []
    try:
        for round_ in range(1, args.repeat + 1):
            for label, workers, distributed in (
                ("single", 1, False),
                ("distributed-1", 1, True),
                (f"distributed-{args.workers}", args.workers, True),
            ):
                print(f"round {round_}: {label} …", flush=True)
                result = run_group(f"{round_}-{label}", url, tmp, workers, args, distributed)
                result["round"] = round_
                results.append(result)
                print(
                    f"  {result['pages']} pages in {result['crawl_seconds']:.1f} s: "
                    f"{result['pages_per_second']:.1f} pages/s, "
                    f"{result['round_trips_per_request']:.2f} Redis round trips per request",
                    flush=True,
                )
                if args.json:  # after every crawl: a long run stopped early still has its figures
                    args.json.write_text(
                        json.dumps(
                            {"args": vars(args) | {"json": str(args.json)}, "results": results},
                            indent=1,
                        )
                    )
    finally:
        stop_server(server)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(
        f"{'round':>5} {'crawl':<16} {'pages':>6} {'crawl s':>8} {'wall s':>7} {'pages/s':>8} "
        f"{'RT/req':>6} {'rows/page':>9} {'WARC B/page':>11}"
    )
    for r in results:
        rows = sum(r["postgres_rows"].values()) - r["postgres_rows"].get("runs", 0)
        per_page = (
            f"{rows / r['pages']:>9.2f}" if r["postgres_rows"] and r["pages"] else f"{'-':>9}"
        )
        warc = r["warc_bytes"] / r["pages"] if r["pages"] else 0.0
        print(
            f"{r['round']:>5} {r['label'].split('-', 1)[1]:<16} "
            f"{r['pages']:>6} {r['crawl_seconds']:>8.1f} {r['wall_seconds']:>7.1f} "
            f"{r['pages_per_second']:>8.1f} {r['round_trips_per_request']:>6.2f} {per_page} "
            f"{warc:>11.0f}"
        )
    print()
    medians = {}
    for label in ("single", "distributed-1", f"distributed-{args.workers}"):
        medians[label] = statistics.median(
            r["pages_per_second"] for r in results if r["label"].endswith(label)
        )
        print(f"{label:<16} median {medians[label]:8.1f} pages/s")
    for label in ("distributed-1", f"distributed-{args.workers}"):
        trips = statistics.median(
            r["round_trips_per_request"] for r in results if r["label"].endswith(label)
        )
        print(f"{label:<16} median {trips:8.2f} Redis round trips per request")
    base = medians["single"] or float("nan")
    for label, speed in medians.items():
        print(f"ratio {label}/single: x{speed / base:.2f}")
    complete = all(r["pages"] == args.pages for r in results)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
