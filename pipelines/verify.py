"""Check a corpus: WARC files and the provenance database agree, and nothing excluded was kept.

    report = verify(warc_dir, db_url)
    report.ok, report.problems, report.counts

What is checked:
- every record's block and payload digests (recomputed, as `warcio check` does);
- every file is closed (no `.open` left by a crash) and reads to its end (a crawl that refused
  every URL before fetching one has no file at all, and that is consistent); a truncated file is a
  problem, reported with the offset where reading stopped, never a crash;
- every response record has one metadata record referring to it, and a `captures` row (or, for a
  policy document, an `evidence` row); every `captures` row points at an existing response record
  of the same URL, at the offset it names; a `conversion` record (a rendered page's DOM) refers to
  an existing response record;
- a metadata or conversion record names the page of the response it refers to: its target is
  `urn:rightscrawl:provenance:<url>` or `urn:rightscrawl:dom:<url>`, or, in files written before
  these URNs, the page's URL itself (still read: old corpora stay verifiable);
- no URL that a run excluded has a response record from that run;
- every evidence record a decision cites is in the WARC files.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import track
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipelines import models
from pipelines.warc_writer import OPEN_SUFFIX, provenance_uri, rendered_dom_uri


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # file:offset, table:id, …
    what: str


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    file: str
    offset: int
    url: str
    run_id: str | None = None
    role: str = "capture"  # or "policy-evidence"


@dataclass(frozen=True, slots=True)
class DerivedRecord:
    """A metadata or conversion record, by the response record it refers to."""

    where: str  # file:offset
    target: str | None  # its WARC-Target-URI


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))


def _drain(stream) -> None:
    while stream.read(1024 * 1024):
        pass


def scan_warc(
    path: Path,
    report: Report,
    responses: dict[str, ResponseRecord],
    metadata: dict[str, dict],
    revisits: dict[str, str | None] | None = None,
    conversions: dict[str, DerivedRecord] | None = None,
    metadata_records: dict[str, DerivedRecord] | None = None,
) -> None:
    """Read one file: digests, response records, metadata records (their JSON, and where each
    is and its target, by the record they refer to), conversion records (a rendered DOM: where
    each is and its target, by the record it refers to)."""
    name = path.name
    if revisits is None:
        revisits = {}
    if name.endswith(OPEN_SUFFIX):
        report.add(
            name,
            "file was never closed (the crawl was interrupted); records up to the break are read",
        )
    offset = 0
    try:
        with open(path, "rb") as stream:
            iterator = ArchiveIterator(stream, check_digests=True)
            for record in iterator:
                record_type = record.rec_type
                headers = record.rec_headers
                record_id = headers.get_header("WARC-Record-ID")
                body = record.content_stream().read() if record_type == "metadata" else None
                if body is None:
                    _drain(record.content_stream())
                offset = iterator.get_record_offset()  # only once the record is read
                report.counts["records"] += 1
                report.counts[f"records/{record_type}"] += 1
                if record.digest_checker.passed is False:
                    report.add(
                        f"{name}:{offset}",
                        f"{record_type} {record_id}: " + "; ".join(record.digest_checker.problems),
                    )
                if record_type == "revisit":
                    revisits[record_id] = headers.get_header("WARC-Refers-To")
                if record_type in ("response", "revisit"):
                    responses[record_id] = ResponseRecord(
                        name.removesuffix(OPEN_SUFFIX),
                        offset,
                        headers.get_header("WARC-Target-URI"),
                    )
                elif record_type == "conversion" and conversions is not None:
                    refers_to = headers.get_header("WARC-Refers-To")
                    if refers_to in conversions:
                        report.add(f"{name}:{offset}", f"second conversion record for {refers_to}")
                    conversions[refers_to] = DerivedRecord(
                        f"{name}:{offset}", headers.get_header("WARC-Target-URI")
                    )
                elif record_type == "metadata":
                    refers_to = headers.get_header("WARC-Refers-To")
                    try:
                        data = json.loads(body or b"")
                    except ValueError:
                        report.add(f"{name}:{offset}", f"metadata {record_id} is not JSON")
                        data = {}
                    if refers_to in metadata:
                        report.add(f"{name}:{offset}", f"second metadata record for {refers_to}")
                    metadata[refers_to] = data
                    if metadata_records is not None:
                        metadata_records[refers_to] = DerivedRecord(
                            f"{name}:{offset}", headers.get_header("WARC-Target-URI")
                        )
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        report.add(f"{name}:{offset}", f"unreadable after this offset: {type(exc).__name__}: {exc}")


def verify(
    warc_dir: str | Path | Sequence[str | Path], db_url: str, *, progress: bool = False
) -> Report:
    """Check the WARC files of one folder, or of several (the workers of a distributed crawl),
    against one database."""
    report = Report()
    responses: dict[str, ResponseRecord] = {}
    metadata: dict[str, dict] = {}
    revisits: dict[str, str | None] = {}
    conversions: dict[str, DerivedRecord] = {}
    metadata_records: dict[str, DerivedRecord] = {}
    folders = [warc_dir] if isinstance(warc_dir, str | Path) else list(warc_dir)
    files = []
    for folder in folders:
        files += sorted(Path(folder).glob("*.warc.gz"))
        files += sorted(Path(folder).glob(f"*.warc.gz{OPEN_SUFFIX}"))
    for path in track(
        files, description="Reading WARC files", transient=True, disable=not progress
    ):
        report.counts["files"] += 1
        scan_warc(path, report, responses, metadata, revisits, conversions, metadata_records)
    for record_id, refers_to in revisits.items():
        if refers_to not in responses or refers_to in revisits:
            record = responses[record_id]
            report.add(
                f"{record.file}:{record.offset}",
                f"revisit {record_id} ({record.url}) refers to {refers_to}, "
                "which is not a response record in the WARC files",
            )

    for record_id, record in responses.items():
        data = metadata.get(record_id)
        if data is None:
            report.add(
                f"{record.file}:{record.offset}",
                f"response {record_id} ({record.url}) has no metadata record",
            )
            continue
        responses[record_id] = ResponseRecord(
            record.file, record.offset, record.url, data.get("run_id"), data.get("role", "capture")
        )
    for refers_to in metadata.keys() - responses.keys():
        report.add("warc", f"metadata record refers to {refers_to}, which is not in the WARC files")
    for refers_to in conversions.keys() - responses.keys():
        report.add(
            conversions[refers_to].where,
            f"conversion record refers to {refers_to}, which is not in the WARC files",
        )
    _check_targets(report, responses, metadata_records, "metadata", provenance_uri)
    _check_targets(report, responses, conversions, "conversion", rendered_dom_uri)

    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            _check_database(session, report, responses)
    finally:
        engine.dispose()
    # A crawl that refused every URL before fetching one has decisions and no WARC file, and is
    # consistent; no file and no decision means nothing was checked (a wrong folder or database).
    if not files and not report.counts["decisions"]:
        report.add(
            ", ".join(map(str, folders)),
            "no WARC files, and no decisions in the database: nothing to check",
        )
    return report


def _check_targets(
    report: Report,
    responses: dict[str, ResponseRecord],
    derived: dict[str, DerivedRecord],
    kind: str,
    uri_of: Callable[[str], str],
) -> None:
    """Each metadata (conversion) record is found under the URN of its response's page; a file
    written before the URNs has the page's URL there instead, which is read as before."""
    for refers_to, record in derived.items():
        response = responses.get(refers_to)
        if response is None:  # reported above
            continue
        if record.target not in (uri_of(response.url), response.url):
            report.add(
                record.where,
                f"{kind} record for {response.url} ({refers_to}) has target {record.target}, "
                f"not {uri_of(response.url)}",
            )


def _check_database(session: Session, report: Report, responses: dict[str, ResponseRecord]) -> None:
    captured: set[str] = set()
    for capture in session.scalars(select(models.Capture)):
        report.counts["captures"] += 1
        captured.add(capture.record_id)
        record = responses.get(capture.record_id)
        where = f"captures:{capture.id}"
        if record is None:
            report.add(
                where,
                f"{capture.url}: its response record {capture.record_id} is not in the WARC files",
            )
        elif (record.file, record.offset, record.url) != (
            capture.warc_file,
            capture.warc_offset,
            capture.url,
        ):
            report.add(
                where,
                f"{capture.url}: row says {capture.warc_file}:{capture.warc_offset}, "
                f"the record is {record.url} at {record.file}:{record.offset}",
            )
    evidence = {row.record_id for row in session.scalars(select(models.Evidence)) if row.record_id}
    for record_id, record in responses.items():
        if record.role == "policy-evidence":
            if record_id not in evidence:
                report.add(
                    f"{record.file}:{record.offset}",
                    f"policy document {record.url} has no evidence row",
                )
        elif record_id not in captured:
            report.add(
                f"{record.file}:{record.offset}",
                f"response {record.url} ({record_id}) has no captures row",
            )

    excluded = {
        (url, run)
        for url, run in session.execute(
            select(models.Decision.url, models.Decision.run_id).where(
                models.Decision.outcome == "excluded"
            )
        )
    }
    for record in responses.values():
        if record.role != "policy-evidence" and (record.url, record.run_id) in excluded:
            report.add(
                f"{record.file}:{record.offset}",
                f"payload of {record.url} is in the WARC although run {record.run_id} excluded it",
            )

    cited = Counter()
    for (detail,) in session.execute(
        select(models.Decision.detail).where(models.Decision.outcome == "kept")
    ):
        for signal in (detail or {}).get("signals", []):
            if signal.get("evidence_record"):
                cited[signal["evidence_record"]] += 1
    for record_id in cited.keys() - responses.keys():
        report.add(
            "decisions",
            f"evidence record {record_id} that {cited[record_id]} decision(s) cite is not in the WARC files",
        )
    report.counts["decisions/excluded"] = len(excluded)
    report.counts["decisions"] = session.scalar(select(func.count()).select_from(models.Decision))
