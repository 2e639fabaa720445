"""What an origin says about all its URLs: robots.txt (access rules, AI-agent rules, Content-Usage,
Content-Signal, RSL `License`), /.well-known/tdmrep.json, /ai.txt and RSL licence documents.

Fetched once per origin by the crawler (or handed in by `assess`), then asked about each URL.
Everything here can be decided before a URL is requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from policies.evidence import TOO_LARGE_STATUS, Signal, unread_signal
from policies.signals import content_signal, content_usage
from policies.signals.ai_txt import ai_txt_signal
from policies.signals.robots import RobotsTxt
from policies.signals.robots_records import RobotsRecords
from policies.signals.rsl import DEFAULT_USER_TYPE, rsl_signal
from policies.signals.tdmrep_file import TdmrepFile


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A policy document as fetched: status is an HTTP status or "network-error"."""

    url: str
    status: int | str
    body: bytes | None = None
    record_id: str | None = None
    content_type: str | None = None  # the response's Content-Type, when it was archived

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300

    @property
    def unreachable(self) -> bool:
        return not isinstance(self.status, int) or self.status >= 500 or self.status == 429

    @property
    def text(self) -> str:
        return (self.body or b"").decode("utf-8", "replace").lstrip("\ufeff")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class OriginEvidence:
    origin: str
    robots: RobotsTxt | None = None
    robots_text: str = ""
    tdmrep: TdmrepFile | None = None
    ai_txt: PolicyDocument | None = None
    rsl: tuple[PolicyDocument, ...] = ()
    records: RobotsRecords = field(init=False)

    def __post_init__(self) -> None:
        parsed = self.robots is not None and self.robots.access == "parsed"
        object.__setattr__(self, "records", RobotsRecords.parse(self.robots_text if parsed else ""))

    @property
    def licence_urls(self) -> tuple[str, ...]:
        """RSL licence documents that robots.txt declares (global `License:` lines)."""
        return self.records.licenses

    def signals(
        self,
        url: str,
        user_agent: str,
        ai_agents: frozenset[str] = frozenset(),
        rsl_user_type: str = DEFAULT_USER_TYPE,
    ) -> list[Signal]:
        """Every origin-level statement about `url`, except tdmrep.json (see `tdmrep_signal`).
        `rsl_user_type`: the crawling party's RSL user type (RSL_USER_TYPE)."""
        found: list[Signal] = []
        if self.robots is not None:
            access = self.robots.signal(url, user_agent)
            found.append(access)
            agent_rule = self.robots.ai_agent_signal(url, ai_agents)
            if agent_rule is not None:
                found.append(agent_rule)
            # AIPREF attach §5: usage preferences attach only to paths we may crawl.
            if access.verdict == "allowed" and self.robots.access == "parsed":
                found += self._usage_records(url, user_agent)
        if self.ai_txt is not None:
            if self.ai_txt.status == TOO_LARGE_STATUS:
                found.append(unread_signal("ai.txt", self.ai_txt.url, "past the download cap"))
            elif self.ai_txt.unreachable:
                found.append(
                    Signal(
                        "ai.txt",
                        self.ai_txt.url,
                        f"status {self.ai_txt.status}",
                        "unknown",
                        unreachable=True,
                        problems=(f"not fetched (status {self.ai_txt.status})",),
                    )
                )
            elif self.ai_txt.ok:
                signal = ai_txt_signal(
                    url,
                    self.ai_txt.body,
                    self.ai_txt.status,
                    user_agent=user_agent,
                    source=self.ai_txt.url,
                    record_id=self.ai_txt.record_id,
                )
                found += [signal] if signal else []
        for document in self.rsl:
            found.append(rsl_document_signal(url, document, rsl_user_type))
        return found

    def tdmrep_signal(self, url: str) -> Signal | None:
        return self.tdmrep.signal(url) if self.tdmrep is not None else None

    def _usage_records(self, url: str, user_agent: str) -> list[Signal]:
        assert self.robots is not None
        source = self.robots.url
        usage = content_usage.robots_signal(
            self.records.records_for(user_agent, "content-usage"), url, source
        )
        signal = content_signal.robots_signal(
            self.records.records_for(user_agent, "content-signal"), source
        )
        found = [replace(s, evidence_record=self.robots.record_id) for s in (usage, signal) if s]
        declared = {d.url for d in self.rsl}
        found += [
            Signal("rsl-license", source, licence, "unknown", evidence_record=self.robots.record_id)
            for licence in self.records.licenses
            if licence not in declared
        ]
        return found


def rsl_document_signal(
    url: str, document: PolicyDocument, user_type: str = DEFAULT_USER_TYPE
) -> Signal:
    """What an RSL licence document says about `url`, as fetched. One rule for every way a
    licence is named (robots.txt `License:`, a `Link` header, HTML `<link rel="license">`):
    unreachable (5xx, 429, network error) → `unreachable`, which the profile's
    `[fail_closed] policy_files` turns into policy-error; past the download cap → policy-error;
    another status (404, or 403 when robots.txt forbids us to fetch it) → terms unknown."""
    if document.status == TOO_LARGE_STATUS:
        return unread_signal("rsl", document.url, "past the download cap")
    if document.ok and document.body is not None:
        return rsl_signal(
            url,
            document.body,
            source=document.url,
            record_id=document.record_id,
            user_type=user_type,
        )
    problem = f"licence document not fetched (status {document.status}): terms unknown"
    return Signal(
        "rsl",
        document.url,
        f"status {document.status}",
        "unknown",
        evidence_record=document.record_id,
        problems=(problem,),
        unreachable=document.unreachable,
    )
