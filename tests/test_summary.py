"""`scrapy summary --template eu-ai-act`: the AI Office template's fields (1.3, 2.3, 3.1, 3.2)
from real crawls — three runs over one site under two profiles (a reserved URL excluded each
time, revisits), a withdrawal and a re-check — with exact figures."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipelines.summary import (
    MEASURES,
    TOKEN_ESTIMATE,
    size_range,
    top_domains,
    training_data_size,
    url_domain,
)
from policies.profile import load_profile
from tests.conftest import LOOPBACK_SETTINGS, run_crawl, scrapy_command, served_reply, site_process
from tests.sites.summary import LANGUAGES, TEXTS


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Runs 1-2 under `strict` (the second writes revisits), a re-check that finds nothing new,
    run 3 under `eu-dsm-art4`, then /vi withdrawn after a complaint. (The re-check comes before
    the captures of a second profile: over two profiles it starts Scrapy's reactor twice and
    fails — crawler/commands/recheck.py.)"""
    out = tmp_path_factory.mktemp("summary")
    db = f"sqlite:///{out / 'provenance.sqlite'}"
    with site_process("tests.sites.summary", tmp_path_factory.mktemp("summary-site")) as site:
        seed = site.origins["summary"] + "/"
        for _ in range(2):
            crawl = run_crawl(out, urls=[seed], settings={"POLICY_PROFILE": "strict"})
            assert crawl.returncode == 0, crawl.output
        recheck = ["recheck"]
        for name, value in {
            **LOOPBACK_SETTINGS,
            "PROVENANCE_DB_URL": db,
            "WARC_DIR": str(out / "warc"),
        }.items():
            recheck += ["-s", f"{name}={value}"]
        result = scrapy_command(*recheck)
        assert result.returncode == 0 and "0 withdrawn" in result.stdout, result.stderr
        crawl = run_crawl(out, urls=[seed], settings={"POLICY_PROFILE": "eu-dsm-art4"})
        assert crawl.returncode == 0, crawl.output
        withdraw = scrapy_command(
            "withdraw", "--url", f"{seed}vi", "--reason", "complaint", "--ref", "C-1", "--db", db
        )
        assert withdraw.returncode == 0 and "3 capture(s) withdrawn" in withdraw.stdout
        yield crawl, site


def _summary(crawl, *extra):
    return scrapy_command(
        "summary", "--template", "eu-ai-act", "--db", f"sqlite:///{crawl.db_path}",
        "--warc-dir", str(crawl.warc_dir), *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def data(crawled):
    crawl, _ = crawled
    result = _summary(crawl, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_each_url_counts_once_by_its_latest_decision(crawled, data):
    crawl, site = crawled
    # The reserved URL was excluded by all three crawls: one URL.
    assert crawl.sql("SELECT count(*) FROM decisions WHERE url LIKE '%/reserved'")[0][0] == 3
    assert data["section_2_3"]["urls"] == {"kept": 3, "excluded": 1, "withdrawn": 1}
    strict, art4 = data["section_3_1"]["profiles"]
    assert (strict["name"], strict["runs"], art4["name"], art4["runs"]) == (
        "strict",
        2,
        "eu-dsm-art4",
        1,
    )
    for profile in (strict, art4):
        assert profile["urls"] == {"kept": 3, "excluded": 1, "withdrawn": 1}
        measures = {m["reason"]: m["urls_excluded"] for m in profile["measures"]}
        assert measures["tdm-reservation-header"] == 1
        assert sum(measures.values()) == 1  # the others never fired, and are listed all the same
        honoured = load_profile(profile["name"])
        assert set(measures) == {r for r in MEASURES if honoured.honours(r)}
    assert data["section_3_1"]["urls_withdrawn"] == 1
    assert data["section_3_1"]["gpai_code_signatory"] is False


def test_domains_by_unique_payload_bytes_revisits_adding_nothing(crawled, data):
    crawl, site = crawled
    base = site.origins["summary"]
    # Three captures of each kept page (one full, one revisit, one full again under another
    # profile), one payload each: the bytes the server sent once per page.
    assert crawl.sql("SELECT count(*) FROM captures WHERE revisit_of IS NOT NULL")[0][0] == 4
    expected = sum(len(served_reply(site, base + path).body) for path in ("/", "/en", "/fr"))
    assert data["section_2_3"]["top_domains"] == [{"domain": "127.0.0.1", "bytes": expected}]
    assert data["section_2_3"]["domains_total"] == 1


def test_languages_modality_and_content_types_of_kept_pages(data):
    s13 = data["section_1_3"]
    kept = Counter(LANGUAGES[p] for p in ("/", "/en", "/fr"))  # /vi is withdrawn
    assert s13["languages"] == dict(kept) == {"en": 2, "fr": 1}
    assert s13["languages_undetermined"] == 0
    assert s13["modalities"] == data["section_2_3"]["modalities"] == ["text"]
    assert s13["content_types"] == {"text/html": 3}
    assert s13["content_kinds"] == {"html": 3}


def test_training_data_size_of_kept_text(data):
    # Template 1.3: visible characters / 4 of each kept page (its <title>, its paragraph, its
    # link texts; whitespace collapsed); /vi withdrawn, /reserved never kept.
    chars = (
        len("/" + TEXTS["/"] + "/en /fr /vi /reserved")
        + len("/en" + TEXTS["/en"])
        + len("/fr" + TEXTS["/fr"])
    )
    assert data["section_1_3"]["training_data_size"] == {
        "text": {
            "documents": 3,
            "tokens_estimated": round(chars / 4),
            "range": "Less than 1 billion tokens",
            "estimate": TOKEN_ESTIMATE,
        },
        "image": {"images": 0, "range": "Less than 1 million images"},
        "audio": {"captures": 0, "hours": None, "range": None},
        "video": {"captures": 0, "hours": None, "range": None},
    }


@pytest.mark.parametrize(
    ("value", "modality", "expected"),
    [
        (0, "text", "Less than 1 billion tokens"),
        (999_999_999, "text", "Less than 1 billion tokens"),
        (1_000_000_000, "text", "1 billion to 10 trillion tokens"),
        (10 * 10**12, "text", "1 billion to 10 trillion tokens"),
        (10 * 10**12 + 1, "text", "More than 10 trillion tokens"),
        (999_999, "image", "Less than 1 million images"),
        (1_000_000, "image", "1 million to 1 billion images"),
        (10**9 + 1, "image", "More than 1 billion images"),
        (9_999, "hours", "Less than 10,000 hours"),
        (10**6, "hours", "10,000 to 1 million hours"),
        (10**6 + 1, "hours", "More than 1 million hours"),
    ],
)
def test_size_ranges_of_the_template(value, modality, expected):
    assert size_range(value, modality) == expected


def test_training_data_size_without_payloads_claims_no_text_range():
    size = training_data_size(None, Counter({"image": 2_000_000}), measured=False)
    assert size["text"]["tokens_estimated"] is None and size["text"]["range"] is None
    assert size["image"] == {"images": 2_000_000, "range": "1 million to 1 billion images"}


def test_collection_period_and_runs_outside_it(crawled, data):
    crawl, _ = crawled
    s23 = data["section_2_3"]
    started, finished = crawl.sql(
        "SELECT min(started_at), max(finished_at) FROM runs WHERE spider = 'corpus'"
    )[0]
    month = lambda iso: f"{iso[5:7]}/{iso[:4]}"  # noqa: E731
    assert s23["collection_period"] == {
        "start": month(started), "end": month(finished), "runs": 3
    }  # fmt: skip
    assert data["section_1_3"]["latest_collection"] == month(finished)
    assert [r["spider"] for r in s23["runs_outside_collection"]] == ["recheck", "withdraw"]
    assert s23["crawlers_used"] is True and s23["crawler_names"] == ["rightscrawl"]
    assert s23["behaviour"]["credentials_sent"] == 0
    assert (
        "CAPTCHA" in s23["behaviour"]["captchas"]
        or "captcha" in s23["behaviour"]["captchas"].lower()
    )
    assert data["section_3_2"] == {"blocklists": ["example.csv"], "urls_blocklisted": 0}


def test_json_keys_are_stable(data):
    """The schema README.md documents: every key, at every level, and its type."""
    assert set(data) == {"template", "section_1_3", "section_2_3", "section_3_1", "section_3_2"}
    assert set(data["section_1_3"]) == {
        "modalities", "training_data_size", "content_kinds", "content_types",
        "latest_collection", "languages", "languages_undetermined", "language_identification",
    }  # fmt: skip
    size = data["section_1_3"]["training_data_size"]
    assert set(size) == {"text", "image", "audio", "video"}
    assert set(size["text"]) == {"documents", "tokens_estimated", "range", "estimate"}
    assert set(size["image"]) == {"images", "range"}
    assert set(size["audio"]) == set(size["video"]) == {"captures", "hours", "range"}
    s23 = data["section_2_3"]
    assert set(s23) == {
        "crawlers_used", "crawler_names", "user_agents", "purposes", "behaviour",
        "collection_period", "runs_outside_collection", "content_and_sources", "modalities",
        "urls", "top_domains", "domains_total", "size_measured", "sme",
    }  # fmt: skip
    assert set(s23["behaviour"]) == {
        "robots_txt", "captchas", "password_protected", "paywalls", "credentials_sent",
        "opt_out_signals",
    }  # fmt: skip
    assert set(data["section_3_1"]) == {"gpai_code_signatory", "profiles", "urls_withdrawn"}
    for profile in data["section_3_1"]["profiles"]:
        assert set(profile) == {"name", "title", "purpose", "sha256", "runs", "urls", "measures"}
        for measure in profile["measures"]:
            assert set(measure) == {"reason", "measure", "urls_excluded"}
            assert isinstance(measure["urls_excluded"], int)
    assert set(data["section_3_2"]) == {"blocklists", "urls_blocklisted"}


def test_withdrawn_page_is_in_no_figure(crawled, data):
    crawl, site = crawled
    vi = site.origins["summary"] + "/vi"
    assert crawl.sql("SELECT count(*) FROM captures WHERE url = ?", vi)[0][0] == 3
    assert "vi" not in data["section_1_3"]["languages"]
    expected = sum(
        len(served_reply(site, site.origins["summary"] + p).body) for p in ("/", "/en", "/fr")
    )
    assert data["section_2_3"]["top_domains"][0]["bytes"] == expected  # /vi's bytes left out


def test_markdown_has_every_section(crawled):
    crawl, _ = crawled
    result = _summary(crawl)
    assert result.returncode == 0, result.stderr
    assert "  - text: Less than 1 billion tokens (estimated " in result.stdout
    assert "  - images: Less than 1 million images (0 image(s))" in result.stdout
    for heading in (
        "## 1.3 Modalities, types of content and other characteristics",
        "## 2.3 Data crawled and scraped from online sources",
        "### Profile strict",
        "### Profile eu-dsm-art4",
        "## 3.2 Removal of illegal content",
    ):
        assert heading in result.stdout
    assert "| 127.0.0.1 |" in result.stdout
    assert "- (iv) Period of data collection: " in result.stdout
    assert "not collecting: `withdraw`" in result.stdout


def test_signatory_is_a_validated_setting(crawled):
    crawl, _ = crawled
    yes = _summary(crawl, "--format", "json", "-s", "SUMMARY_GPAI_SIGNATORY=true")
    assert json.loads(yes.stdout)["section_3_1"]["gpai_code_signatory"] is True
    wrong = _summary(crawl, "-s", "SUMMARY_GPAI_SIGNATORY=maybe")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().startswith("rightscrawl: error: Setting SUMMARY_GPAI_SIGNATORY")
    typo = _summary(crawl, "-s", "SUMMARY_GPAI_SIGNATRY=true")
    assert "Did you mean SUMMARY_GPAI_SIGNATORY?" in typo.stderr and typo.returncode == 1


def test_a_missing_warc_dir_is_one_error_line(crawled, tmp_path):
    crawl, _ = crawled
    result = scrapy_command(
        "summary", "--db", f"sqlite:///{crawl.db_path}", "--warc-dir", str(tmp_path)
    )
    assert result.returncode == 1
    assert (
        result.stderr.startswith("rightscrawl: error: WARC file ")
        and "Traceback" not in result.stderr
    )


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.bbc.co.uk/news", "bbc.co.uk"),
        ("https://a.b.example.com/", "example.com"),
        ("https://user.github.io/x", "user.github.io"),  # a private suffix of the PSL
        ("http://127.0.0.1:8080/", "127.0.0.1"),
        ("http://localhost/", "localhost"),
    ],
)
def test_url_domain(url, domain):
    assert url_domain(url) == domain


@pytest.mark.parametrize(
    ("domains", "sme", "count"),
    [(100, False, 10), (15, False, 2), (100, True, 5), (40000, True, 1000)],
)
def test_top_domains_share(domains, sme, count):
    sizes = Counter({f"d{n}.example": n + 1 for n in range(domains)})
    top = top_domains(sizes, sme=sme)
    assert len(top) == count
    assert top[0] == {"domain": f"d{domains - 1}.example", "bytes": domains}
