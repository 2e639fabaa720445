"""A user's mistake is one clear line and a non-zero exit status, never a traceback (#14)."""

from __future__ import annotations

import pytest

from tests.conftest import run_crawl

SEED = "https://example.org/"  # never fetched: every case stops before the first request


@pytest.mark.parametrize(
    ("urls", "settings", "args", "message", "status"),
    [
        ([SEED], {"ALLOW_PRIVATE_ADDRESSES": "ture"}, {},
         "Setting ALLOW_PRIVATE_ADDRESSES must be true or false, not 'ture'", 1),
        ([SEED], {"WARC_MAX_SIZE": "1GB"}, {},
         "Setting WARC_MAX_SIZE must be a whole number, not '1GB'", 1),
        ([SEED], {"POLITENESS_MAX_PAGES_PER_ORIGIN": "ten"}, {},
         "Setting POLITENESS_MAX_PAGES_PER_ORIGIN must be a whole number, not 'ten'", 1),
        ([SEED], {"DOWNLOAD_DELAY": "fast"}, {}, "Setting DOWNLOAD_DELAY must be a number", 1),
        ([SEED], {"POLICY_PROFILE": "nope"}, {}, "Unknown policy profile 'nope'", 1),
        ([SEED], {"POLICY_PROFLE": "us"}, {},
         "Unknown setting POLICY_PROFLE. Did you mean POLICY_PROFILE?", 1),
        ([SEED], {"WARC_DIR": "/proc/no/such"}, {}, "Cannot write to WARC_DIR /proc/no/such", 1),
        ([SEED], {"PROVENANCE_DB_URL": "nonsense"}, {}, "is not a SQLAlchemy URL", 1),
        ([SEED], {}, {"profile": "us"},
         "takes no argument 'profile'", 2),
        ([SEED], {}, {"url": SEED}, "Did you mean -a urls=", 2),
        ([], {}, {"seeds": "/no/such/seeds.txt"}, "Cannot read seed file", 1),
        (["example.org"], {}, {}, "did you mean https://example.org?", 1),
        ([SEED], {"PROVENANCE_DB_URL": "postgresql+psycopg://u:secretpw@127.0.0.1:1/x"}, {},
         "Setting PROVENANCE_DB_URL: cannot open 'postgresql+psycopg://u:***@127.0.0.1:1/x'", 1),
        ([SEED], {"PROVENANCE_DB_URL": "mysql://u:secretpw@127.0.0.1/x"}, {},
         "needs a database driver that is not installed", 1),
        ([SEED], {"DISTRIBUTED_REDIS_URL": "redis://:secretpw@127.0.0.1:1/0"}, {},
         "Setting DISTRIBUTED_REDIS_URL", 1),
        ([SEED], {"RSL_USER_TYPE": "academic"}, {},
         "Setting RSL_USER_TYPE must be one of commercial, education, government, "
         "non-commercial, personal, not 'academic'", 1),
    ],
    ids=[
        "bool", "size", "count", "delay", "profile", "unknown-setting", "warc-dir", "db-url",
        "unknown-argument", "argument-typo", "seeds-file", "no-scheme", "db-unreachable",
        "db-driver", "redis-unreachable", "rsl-user-type",
    ],
)  # fmt: skip
def test_a_mistake_is_one_line(tmp_path, urls, settings, args, message, status):
    crawl = run_crawl(tmp_path, urls=urls, settings=settings, args=args, timeout=60)
    assert crawl.returncode == status, crawl.output[-2000:]
    assert "Traceback" not in crawl.output, crawl.output[-3000:]
    assert message in crawl.output
    errors = [line for line in crawl.output.splitlines() if "rightscrawl: error:" in line]
    assert len(errors) == 1 and message in errors[0], crawl.output[-2000:]
    assert "secretpw" not in crawl.output  # a service URL's password is never shown
