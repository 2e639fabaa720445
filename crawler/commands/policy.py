"""`scrapy policy`: the profiles, and why a URL is kept or excluded.

    scrapy policy list
    scrapy policy show NAME
    scrapy policy explain URL [-s POLICY_PROFILE=…]

`explain` runs the real gate on one URL — the origin's policy documents are fetched, the URL itself
only if nothing refuses it before fetching — and prints each signal, its source, its reading and
the profile rule that decided. Nothing is written to the corpus (no WARC, no database rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import scrapy
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES

from crawler import meta
from crawler.config import OfflineCommand, write_nothing
from crawler.contracts import crawl_run, decision_made
from crawler.spiders.corpus import validate_seed
from policies.evidence import Decision
from policies.profile import Profile, ProfileError, available_profiles, load_profile

if TYPE_CHECKING:
    import argparse


class ExplainSpider(scrapy.Spider):
    """Requests one URL through the gate and keeps the decision; follows nothing."""

    name = "policy-explain"

    def __init__(self, url: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.url = url
        self.decisions: list[Decision] = []

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.decision_made, signal=decision_made)
        return spider

    def decision_made(self, decision: Decision) -> None:
        self.decisions.append(decision)

    async def start(self):
        yield scrapy.Request(
            self.url, callback=self.parse, errback=lambda failure: None, dont_filter=True
        )

    def parse(self, response):
        decision = response.meta.get(meta.DECISION)
        if decision is not None:
            self.decisions.append(decision)
        return ()


class Command(OfflineCommand):
    requires_crawler_process = False  # only `explain` crawls: it starts its own

    def syntax(self) -> str:
        return "list | show NAME | explain URL"

    def short_desc(self) -> str:
        return "List and show policy profiles; explain the decision for a URL"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if args[:1] == ["explain"]:
            # Explaining writes nothing (no WARC, no rows, no lock), and no log noise over the
            # table.
            write_nothing(self.settings)
            if (self.settings.getpriority("LOG_LEVEL") or 0) < SETTINGS_PRIORITIES["cmdline"]:
                self.settings.set("LOG_LEVEL", "ERROR", priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        console = Console()
        match args:
            case ["list"]:
                self.exitcode = list_profiles(console)
            case ["show", name]:
                self.exitcode = show_profile(console, name)
            case ["explain", url]:
                problem = validate_seed(url)
                if problem:
                    raise UsageError(f"Cannot explain {url!r}: {problem}")
                self.exitcode = self.explain(console, url)
            case _:
                raise UsageError("use: scrapy policy list | show NAME | explain URL")

    def explain(self, console: Console, url: str) -> int:
        process = crawler_process(self.settings)
        crawler = process.create_crawler(ExplainSpider)
        process.crawl(crawler, url=url)
        process.start()
        if process.bootstrap_failed:
            return 1
        spider = crawler.spider
        decisions = spider.decisions if spider is not None else []
        if not decisions:
            console.print(f"[red]No decision was made for {escape(url)}[/red]")
            return 1
        show_decision(console, decisions[-1], crawl_run(crawler).profile)
        return 0


def standalone(settings) -> None:
    """These commands (explain, recheck) work alone: they never join a distributed crawl's
    frontier, nor wait for its workers to finish."""
    settings.set(
        "DISTRIBUTED_REDIS_URL",
        None,
        priority=max(settings.getpriority("DISTRIBUTED_REDIS_URL") or 0, 40),
    )


def crawler_process(settings):
    """The process `scrapy crawl` would use for these settings (asyncio reactor or not), alone
    (`standalone`)."""
    from scrapy import crawler

    standalone(settings)

    if settings.get(
        "TWISTED_REACTOR"
    ) == "twisted.internet.asyncioreactor.AsyncioSelectorReactor" and hasattr(
        crawler, "AsyncCrawlerProcess"
    ):
        return crawler.AsyncCrawlerProcess(settings)
    return crawler.CrawlerProcess(settings)


def show_decision(console: Console, decision: Decision, profile: Profile) -> None:
    table = Table(title=f"{decision.url} — profile {profile.name}", show_lines=True)
    for column in ("Signal", "Source", "Value", "Reading", "Rule"):
        table.add_column(column, overflow="fold")
    for signal in decision.signals:
        if signal.reason and signal.in_force and profile.honours(signal.reason):
            rule = f"[red]excludes: {signal.reason}[/red]"
        elif signal.reason and signal.in_force:
            rule = f"recorded: {signal.reason} (not a reservation under {profile.name})"
        elif signal.unreachable:
            rule = (
                "[red]fails closed: policy-error[/red]"
                if profile.policy_files_fail_closed
                else "recorded"
            )
        elif not signal.in_force:
            rule = "superseded"
        else:
            rule = "recorded"
        value = escape(signal.value) + "".join(
            f"\n[yellow]! {escape(p)}[/yellow]" for p in signal.problems
        )
        table.add_row(escape(signal.kind), escape(signal.source), value, signal.verdict, rule)
    console.print(table)
    for reason in decision.reasons:
        if not any(s.reason == reason for s in decision.signals):
            console.print(
                f"  [red]{reason}[/red] {escape(str(decision.detail.get('problem', '')))}".rstrip()
            )
    verdict = (
        "[green]KEPT[/green]"
        if decision.kept
        else f"[red]EXCLUDED[/red] ({', '.join(decision.reasons)})"
    )
    console.print(
        f"Decision: {verdict}, {decision.stage}, profile {profile.name} sha256 {profile.sha256[:12]}…"
    )


def list_profiles(console: Console) -> int:
    table = Table(title="Policy profiles (POLICY_PROFILE)")
    for column in ("Name", "Title", "Jurisdiction", "Purpose"):
        table.add_column(column, overflow="fold")
    for name in available_profiles():
        profile = load_profile(name)
        table.add_row(name, profile.title, profile.jurisdiction, profile.purpose)
    console.print(table)
    return 0


def show_profile(console: Console, name: str) -> int:
    try:
        profile = load_profile(name)
    except ProfileError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # a message may quote [sections]
        return 1
    console.print(f"[bold]{escape(profile.name)}[/bold]: {escape(profile.title)}")
    console.print(escape(f"file {profile.path}  sha256 {profile.sha256}"))
    console.print(escape(f"jurisdiction: {profile.jurisdiction}   purpose: {profile.purpose}\n"))
    console.print(escape(" ".join(profile.description.split())) + "\n")
    console.print("[bold]Legal basis[/bold]")
    for basis in profile.legal_basis:
        console.print(f"  - {escape(basis)}")
    console.print("[bold]Sources[/bold]")
    for source in profile.sources:
        console.print(f"  - {escape(source)}")
    console.print(
        "[bold]Excludes on[/bold]: "
        + (", ".join(sorted(profile.honoured)) or "(no reservation signal)")
    )
    console.print(
        "  always: robots-disallowed, robots-unreachable, declared-reservation, lawful-access refusals"
    )
    if profile.review:
        console.print(
            "[bold]Kept, listed for review[/bold] (detail.review): "
            + ", ".join(sorted(profile.review))
        )
    console.print(
        f"[bold]Policy files that cannot be fetched[/bold]: {'fail closed' if profile.policy_files_fail_closed else 'recorded'}"
    )
    console.print(
        f"[bold]Fetched per origin[/bold]: robots.txt, {', '.join(sorted(profile.fetch)) or '(nothing else)'}"
    )
    return 0
