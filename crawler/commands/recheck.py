"""`scrapy recheck [--removal-list FILE]`: re-read what each origin and the declared-reservation
registries say now, and withdraw captures that have since been reserved.

For every origin with kept, not yet withdrawn captures, the policy documents are fetched again
(robots.txt, tdmrep.json, ai.txt, RSL, as the profile asks) through the real gate — archived as
evidence in a run of its own — and every capture is decided again under the profile of the crawl
that made it, with the registries of POLICY_REGISTRIES as they are now: URL entries, and
works-level entries (owner, identifier, iscc) matched against the stored payload and its
metadata, read back from the WARC file (policies.declared_works). Pages are not fetched again.

A capture that is now reserved gets a withdrawal decision (reasons: `withdrawn` plus what reserves
it); history is never deleted. An origin that is down withdraws nothing: an unreachable
robots.txt or policy file is not a reservation (pipelines.withdraw.reserves, the re-crawl's rule).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from rich.console import Console
from scrapy.exceptions import UsageError
from scrapy.http import HtmlResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.commands.policy import standalone
from crawler.config import OfflineCommand
from crawler.contracts import crawl_run, kind_of_type
from crawler.decisions import announce_exclusion
from crawler.middlewares import downloader_middleware
from crawler.middlewares.origin_policy import OriginPolicyMiddleware
from pipelines import models
from pipelines.warc_reader import READ_ERRORS, read_payload
from pipelines.withdraw import reserves, withdrawal_of, withdrawn_record_ids
from policies.ai_agents import training_agents
from policies.declared_works import declared_work_signals
from policies.engine import decide
from policies.evidence import Signal
from policies.origin import origin_of
from policies.registry import Registry, load_registry
from policies.signals.embedded import document_metadata

if TYPE_CHECKING:
    import argparse

    from scrapy.crawler import Crawler


class RecheckSpider(scrapy.Spider):
    """Fetches no page: asks the origin policy for fresh evidence and decides each capture again."""

    name = "recheck"

    def __init__(self, captures: list[dict[str, Any]], **kwargs: Any):
        super().__init__(**kwargs)
        self.captures = captures
        self.withdrawn: list[dict[str, Any]] = []
        self.unread: list[dict[str, Any]] = []  # stored payloads that could not be read back

    async def start(self):
        middleware = downloader_middleware(self.crawler, OriginPolicyMiddleware)
        run = crawl_run(self.crawler)
        registry = load_registry(self.crawler.settings.getlist("POLICY_REGISTRIES"))
        by_origin: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for capture in self.captures:
            by_origin[origin_of(capture["url"])].append(capture)
        warc_dir = Path(self.crawler.settings.get("WARC_DIR"))
        for captures in by_origin.values():
            evidence = await middleware.evidence_for(scrapy.Request(captures[0]["url"]))
            for capture in captures:
                url = capture["url"]
                signals = evidence.signals(
                    url, run.token, training_agents().tokens, run.rsl_user_type
                )
                signals += [
                    s for s in (evidence.tdmrep_signal(url), registry.signal(url)) if s is not None
                ]
                signals += self.stored_work_signals(registry, capture, warc_dir)
                decision = decide(url, signals, profile=run.profile, stage="before-fetch")
                if not reserves(decision):  # kept, or an outage: the capture stands
                    continue
                withdrawal = withdrawal_of(decision, capture, recheck=True)
                announce_exclusion(self.crawler, withdrawal)
                self.withdrawn.append({**capture, "reasons": list(decision.reasons)})
        return
        yield  # an async generator that yields no request

    def stored_work_signals(
        self, registry: Registry, capture: dict[str, Any], warc_dir: Path
    ) -> list[Signal]:
        """Works-level reservations covering the capture's stored payload (no refetch)."""
        if not (registry.reads_claims or registry.reads_codes):
            return []
        content_type = (capture["content_type"] or "").split(";", 1)[0].strip().lower()
        try:
            body = read_payload(warc_dir / capture["payload_file"], capture["payload_offset"])
        except READ_ERRORS as exc:
            self.unread.append({**capture, "problem": f"{type(exc).__name__}: {exc}"})
            return []
        html_root = None
        if kind_of_type(content_type) == "html" or (not content_type and body[:1] == b"<"):
            response = HtmlResponse(
                capture["url"], body=body, headers={"Content-Type": capture["content_type"] or ""}
            )
            html_root = response.selector.root
            embedded = document_metadata("", b"")
        else:
            embedded = document_metadata(content_type, body)
        return declared_work_signals(
            registry,
            content_type,
            body,
            html_root=html_root,
            xmp=embedded.xmp,
            opf=embedded.opf,
        )


def captures_to_recheck(db_url: str) -> dict[str, list[dict[str, Any]]]:
    """Kept, not withdrawn captures, grouped by the profile of the run that made them."""
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            withdrawn = withdrawn_record_ids(session)
            profiles = {
                run_id: profile
                for run_id, profile in session.execute(select(models.Run.id, models.Run.profile))
            }
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            captures = list(session.scalars(select(models.Capture).order_by(models.Capture.id)))
            payloads = {c.record_id: (c.warc_file, c.warc_offset) for c in captures}
            for capture in captures:
                if capture.record_id in withdrawn:
                    continue
                # a revisit record holds no payload: the response record it refers to does
                payload = payloads.get(capture.revisit_of or capture.record_id)
                payload = payload or (capture.warc_file, capture.warc_offset)
                grouped[profiles.get(capture.run_id) or "strict"].append(
                    {
                        "url": capture.url,
                        "record_id": capture.record_id,
                        "warc_file": capture.warc_file,
                        "capture_run_id": capture.run_id,
                        "content_type": capture.content_type,
                        "payload_file": payload[0],
                        "payload_offset": payload[1],
                    }  # fmt: skip
                )
            return grouped
    finally:
        engine.dispose()


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "[--removal-list FILE] [--db URL]"

    def short_desc(self) -> str:
        return "Fetch each origin's policy documents again and withdraw captures it now reserves"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--removal-list", help="write the withdrawn URLs and record ids here (TSV)"
        )
        parser.add_argument(
            "--db", help="SQLAlchemy URL of the database (default: PROVENANCE_DB_URL)"
        )

    def recheck_each_profile(
        self, grouped: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[Crawler], bool]:
        """One re-check run per profile, one after the other in one reactor (Scrapy's documented
        way to run crawls in sequence: a runner per crawl, the reactor run once)."""
        from scrapy.crawler import CrawlerRunner
        from scrapy.utils.log import configure_logging
        from scrapy.utils.reactor import install_reactor
        from twisted.internet import defer

        if self.settings.get("TWISTED_REACTOR"):
            install_reactor(self.settings["TWISTED_REACTOR"], self.settings["ASYNCIO_EVENT_LOOP"])
        from twisted.internet import reactor

        configure_logging(self.settings)
        crawlers: list[Crawler] = []
        failed = False

        @defer.inlineCallbacks
        def in_turn():
            nonlocal failed
            try:
                for profile, captures in grouped.items():
                    settings = self.settings.copy()
                    settings.set("POLICY_PROFILE", profile, priority="cmdline")
                    standalone(settings)
                    runner = CrawlerRunner(settings)
                    crawler = runner.create_crawler(RecheckSpider)
                    crawlers.append(crawler)
                    yield runner.crawl(crawler, captures=captures)
                    if runner.bootstrap_failed:
                        failed = True
                        return
            except Exception:
                failed = True
                raise
            finally:
                reactor.callLater(0, reactor.stop)

        in_turn()
        reactor.run()
        return crawlers, failed

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        if opts.db:  # the re-check's own run and withdrawals go to the same database
            self.settings.set("PROVENANCE_DB_URL", opts.db, priority="cmdline")
        grouped = captures_to_recheck(self.settings.get("PROVENANCE_DB_URL"))
        console = Console()
        withdrawn: list[dict[str, Any]] = []
        unread: list[dict[str, Any]] = []
        checked = 0
        crawlers, failed = self.recheck_each_profile(grouped)
        if failed:
            self.exitcode = 1
            return
        for crawler in crawlers:
            checked += len(crawler.spider.captures)
            withdrawn += crawler.spider.withdrawn
            unread += crawler.spider.unread
        console.print(f"{checked} capture(s) re-checked, {len(withdrawn)} withdrawn")
        for capture in unread:  # its works-level entries could not be matched: say so
            console.print(
                f"  payload unread: {capture['url']}  {capture['record_id']}  {capture['problem']}"
            )
        for capture in withdrawn:
            console.print(
                f"  {capture['url']}  {', '.join(capture['reasons'])}  {capture['record_id']}"
            )
        if opts.removal_list:
            lines = ["url\trecord_id\twarc_file\treasons"]
            lines += [
                f"{c['url']}\t{c['record_id']}\t{c['warc_file']}\t{','.join(c['reasons'])}"
                for c in withdrawn
            ]
            Path(opts.removal_list).write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.exitcode = 0
