"""What a crawl of P pages a day needs, from what `benchmarks/distributed.py --json` measured.

    python benchmarks/scaling.py RESULTS.json [--pages-per-day 100000000] [--workers-label N]

Takes the median over the rounds of the N-worker distributed crawls (default: the largest N in
the file) and scales it linearly: pages/s per worker, workers needed, Redis round trips per
second, PostgreSQL rows per second, WARC bytes a day. It then checks linear scaling against the
run itself: N times what one worker measured (pages/s, Redis round trips/s, PostgreSQL rows/s,
runs rows left out) against what the N workers measured together. Linear scaling assumes what the benchmark cannot show on one
machine: workers on their own cores, and enough origins that per-origin politeness is not the
limit (the benchmark crawls one origin).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

DAY = 86_400


def median_of(results: list[dict], key) -> float:
    return statistics.median(key(r) for r in results)


def written(result: dict) -> int:
    """PostgreSQL rows of a crawl, without its `runs` rows (one per worker)."""
    return sum(result["postgres_rows"].values()) - result["postgres_rows"]["runs"]


def check(one: list[dict], many: list[dict]) -> list[tuple[str, str, str]]:
    """Linear scaling, tested: N times one worker's figures against N workers measured."""
    workers = many[0]["workers"]
    rate = median_of(one, lambda r: r["pages_per_second"])
    trips = median_of(one, lambda r: r["redis_round_trips"] / r["crawl_seconds"])
    rows = median_of(one, lambda r: written(r) / r["crawl_seconds"])
    got_rate = median_of(many, lambda r: r["pages_per_second"])
    got_trips = median_of(many, lambda r: r["redis_round_trips"] / r["crawl_seconds"])
    got_rows = median_of(many, lambda r: written(r) / r["crawl_seconds"])
    return [
        (f"check: {workers} × 1 worker vs {workers} workers", "predicted / measured", ""),
        (
            "  pages/s",
            f"{workers * rate:,.1f} / {got_rate:,.1f}",
            f"×{got_rate / (workers * rate):.2f}",
        ),
        (
            "  Redis round trips/s",
            f"{workers * trips:,.0f} / {got_trips:,.0f}",
            f"×{got_trips / (workers * trips):.2f}",
        ),
        (
            "  PostgreSQL rows/s",
            f"{workers * rows:,.0f} / {got_rows:,.0f}",
            f"×{got_rows / (workers * rows):.2f}",
        ),
    ]


def model(results: list[dict], pages_per_day: float) -> list[tuple[str, str, str]]:
    workers = results[0]["workers"]
    pages = median_of(results, lambda r: r["pages"])
    per_worker = median_of(results, lambda r: r["pages_per_second"] / r["workers"])
    requests_per_page = median_of(results, lambda r: r["requests"] / r["pages"])
    trips_per_request = median_of(results, lambda r: r["round_trips_per_request"])
    rows = {
        table: median_of(results, lambda r, t=table: r["postgres_rows"][t] / r["pages"])
        for table in ("decisions", "captures", "evidence")
    }
    rows_per_page = sum(rows.values())
    warc_per_page = median_of(results, lambda r: r["warc_bytes"] / r["pages"])
    rate = pages_per_day / DAY
    needed = math.ceil(rate / per_worker)
    redis_ops = rate * requests_per_page * trips_per_request
    pg_rows = rate * rows_per_page
    breakdown = " + ".join(f"{rows[t]:.2f} {t}" for t in rows)
    return [
        ("measured", f"{workers} workers, {pages:.0f} pages, {len(results)} rounds (median)", ""),
        ("pages/s per worker", f"{per_worker:.1f}", "pages / crawl s / workers"),
        ("requests per page", f"{requests_per_page:.3f}", "robots.txt, sitemaps, redirects"),
        ("Redis round trips per request", f"{trips_per_request:.3f}", "stat / requests"),
        ("PostgreSQL rows per page", f"{rows_per_page:.2f}", breakdown),
        ("WARC bytes per page", f"{warc_per_page:.0f}", "this site's pages; yours differ"),
        ("target", f"{pages_per_day:,.0f} pages/day", f"= {rate:,.1f} pages/s"),
        ("workers needed", f"{needed}", f"ceil({rate:,.1f} / {per_worker:.1f})"),
        (
            "Redis round trips/s",
            f"{redis_ops:,.0f}",
            f"{rate:,.1f} × {requests_per_page:.3f} × {trips_per_request:.3f}",
        ),
        ("PostgreSQL rows/s", f"{pg_rows:,.0f}", f"{rate:,.1f} × {rows_per_page:.2f}"),
        (
            "WARC per day",
            f"{pages_per_day * warc_per_page / 1e12:,.2f} TB",
            f"{pages_per_day:,.0f} × {warc_per_page:.0f} B",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="benchmarks/distributed.py --json output")
    parser.add_argument("--pages-per-day", type=float, default=100_000_000)
    parser.add_argument("--workers-label", help="distributed-N group to use (largest N)")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text())["results"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"Cannot read {args.results}: {exc}", file=sys.stderr)
        return 2
    distributed = [r for r in results if r["label"].split("-", 1)[1].startswith("distributed")]
    labels = sorted({r["label"].split("-", 1)[1] for r in distributed}, key=lambda x: int(x[12:]))
    label = args.workers_label or (labels[-1] if labels else None)
    chosen = [r for r in distributed if r["label"].endswith(f"-{label}") and r["pages"]]
    if not chosen or not all(r["postgres_rows"] for r in chosen):
        print(f"No complete {label or 'distributed'} crawl in {args.results}", file=sys.stderr)
        return 2
    rows = model(chosen, args.pages_per_day)
    one = [r for r in distributed if r["label"].endswith("-distributed-1") and r["pages"]]
    if one and label != "distributed-1" and all(r["postgres_rows"] for r in one):
        rows += check(one, chosen)
    width = max(len(name) for name, _, _ in rows)
    for name, value, how in rows:
        print(f"{name:<{width}}  {value:<34} {how}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
