"""Pages per second of a rendering crawl (`-a render=js`) against the same crawl without it.

    python benchmarks/render.py --pages 500 [--repeat 3] [--concurrency 8]

Both crawls are rightscrawl's `corpus` spider on the benchmark site (`benchmarks/site.py`), whose
pages here also write a paragraph with a script; one after the other, against one server, in the
same run, so the ratio compares like with like on this machine. Measurement as in `run.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import Result, run_rounds  # noqa: E402

CRAWLERS = ("rightscrawl", "rightscrawl-js")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="pages of the site (500)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, alternating order (1)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent requests (8)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per crawl (3600)")
    args = parser.parse_args(argv)
    if args.pages < 1 or args.repeat < 1:
        parser.error("--pages and --repeat must be at least 1")
    results = run_rounds(CRAWLERS, args, script=True)
    print()
    print_table(results)
    return 0 if all(r.returncode == 0 and r.pages == args.pages for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
