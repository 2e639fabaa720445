"""Build robots_cases.json: the access decisions stated by the peer robots.txt suites.

    python tests/conformance/generate_robots_cases.py GOOGLE_ROBOTSTXT_GIT PROTEGO_GIT

Both arguments are git clones (bare or not) of google/robotstxt and scrapy/protego; files are
read from their HEAD commit, which the output records.

- google/robotstxt `robots_test.cc`: each `EXPECT_TRUE/FALSE(IsUserAgentAllowed(robots, agent,
  url))` whose arguments are literals or const declarations, read by a small reader of the
  file's C++ (the few built at run time, with loops and StrCat, are in a skipped test).
- scrapy/protego `tests/test_protego.py` and `tests/test_on_google_spec.py`: run with the
  installed protego, recording every `can_fetch` call and its answer (the suite passes, so each
  answer is the one the test asserts).
- RFC 9309: the examples of §2.2.1-2.2.4, §2.3.1 and §5, written out by hand (RFC_CASES).

Cases matched by SKIPPED (extensions of one parser, or API behaviour RFC 9309 decides
otherwise) are left out and listed with their reason in the output's header. Not run by pytest.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).with_name("robots_cases.json")

# (origin, test name prefix, selector or None for every case of the test, reason). A selector is
# a substring of the case's user agent, URL or (parametrized) test name.
SKIPPED = [
    ("google", "GoogleOnly_IndexHTMLisDirectory", None,
     "Google-only: 'Allow: /x/index.html' also allows /x/; RFC 9309 has no such rule"),
    ("google", "GoogleOnly_LineTooLong", None,
     "Google-only: lines cut at 16,664 bytes (RFC 9309 sets no line limit); its robots.txt "
     "texts are built in loops"),
    ("google", "GoogleOnly_AcceptUserAgentUpToFirstSpace", "Foo Bar",
     "asks for the crawler agent 'Foo Bar' whole; our API takes the product token of a "
     "User-Agent string ('Foo'), as RFC 9309 §2.2.1 has crawlers match their token"),
    ("google", "ID_Encoding", "/foo/bar/ツ",
     "Google's API leaves percent-encoding the URL to its caller; RFC 9309 §2.2.2 encodes the "
     "URI's non-ASCII octets before comparing, so the URL matches"),
    ("google", "ID_Encoding", "/foo/bar/baz",
     "Google compares escapes of unreserved characters as written ('should not be relied "
     "on'); RFC 9309 §2.2.2 (table 1) decodes them, so /foo/bar/%62%61%7A matches /foo/bar/baz"),
    ("protego", "test_user_agent_precedence", "hedwig-new]",
     "Protego matches a group name inside a longer agent name; RFC 9309 §2.2.1 matches the "
     "product token whole"),
    ("protego", "test_user_agent_precedence", "hedwig-news2]",
     "Protego matches a group name inside a longer agent name; RFC 9309 §2.2.1 matches the "
     "product token whole"),
    ("protego", "test_user_agent_precedence", "hedwig-images]",
     "Protego matches a group name inside a longer agent name; RFC 9309 §2.2.1 matches the "
     "product token whole"),
    ("protego", "test_unicode_url_and_useragent", "Mozilla/5.0",
     "Protego searches group names anywhere in a full User-Agent string; RFC 9309 §2.2.1 "
     "matches the crawler's product token"),
    ("protego", "test_generosity", "harry potter",
     "Protego reads 'user agent harry potter' (no colon, four words); Google's reading of a "
     "missing colon, which we follow, takes two-word lines only"),
    ("protego", "test_generosity", "myprofile",
     "Protego drops '*' from 'User-agent: foo*bot'; RFC 9309 §2.2.1 has no wildcard in tokens"),
    ("protego", "test_grouping_unknown_keys", None,
     "Protego ends a group at an unknown record; RFC 9309 §2.2.4: other records MUST NOT "
     "interfere (google's ID_LineSyntax_Groups_OtherRules asserts the RFC reading)"),
    ("protego", "test_index_html_is_directory", None,
     "Protego/Google extension: 'Allow: /x/index.html' also allows /x/"),
    ("protego", "test_special_symbols_dual_behaviour", None,
     "Protego extension: a final '$' also matches a literal '$'; RFC 9309 §2.2.3: end anchor"),
    ("protego", "test_with_absolute_urls", None,
     "Protego extension: a pattern written as an absolute URL; RFC 9309 §2.2.2 patterns start "
     "with '/' (or '*')"),
    ("protego", "test_bytestrings", None,
     "API only (bytes input; fails on protego 0.7 itself), no access decision"),
    ("protego", "test_on_fetched_robotstxt", None,
     "4,231 real files (tests/test_data/) checked for parsing without an exception only: no "
     "access decision to copy"),
]  # fmt: skip

_RFC_5_1 = """\
User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
"""
_RFC_5_2 = """\
User-Agent: foobot
Allow: /example/page/
Disallow: /example/page/disallowed.gif
"""
_RFC_2_2_1 = """\
user-agent: ExampleBot
disallow: /foo
disallow: /bar

user-agent: ExampleBot
disallow: /baz
"""
_E = "https://www.example.com"
_ALL_BUT = "User-agent: *\nDisallow: /\nAllow: "
# (section, what it shows, robots.txt, agent, url, allowed[, fetch status])
RFC_CASES = [
    ("2.2.1", "groups naming one agent merge", _RFC_2_2_1, "ExampleBot", f"{_E}/foo", False),
    ("2.2.1", "groups naming one agent merge", _RFC_2_2_1, "ExampleBot", f"{_E}/bar", False),
    ("2.2.1", "groups naming one agent merge", _RFC_2_2_1, "ExampleBot", f"{_E}/baz", False),
    ("2.2.1", "groups naming one agent merge", _RFC_2_2_1, "ExampleBot", f"{_E}/qux", True),
    ("2.2.1", "tokens match case-insensitively", _RFC_2_2_1, "examplebot", f"{_E}/baz", False),
    ("2.2.1", "the crawler's product token", _RFC_2_2_1, "ExampleBot/0.1 (+https://www.example.com/bot.html)", f"{_E}/foo", False),
    ("2.2.1", "no group and no * group", _RFC_2_2_1, "OtherBot", f"{_E}/foo", True),
    ("2.2.2", "/robots.txt implicitly allowed", "User-agent: *\nDisallow: /\n", "foobot", f"{_E}/robots.txt", True),
    ("2.2.2", "no matching rule allows", "User-agent: *\nDisallow: /private/\n", "foobot", f"{_E}/public/x", True),
    ("2.2.2", "equivalent rules: allow wins", "User-agent: *\nDisallow: /a\nAllow: /a\n", "foobot", f"{_E}/a", True),
    ("2.2.2", "paths are case-sensitive", "User-agent: *\nDisallow: /Private\n", "foobot", f"{_E}/private", True),
    ("2.2.2", "table 1: a URL in the query", _ALL_BUT + "/foo/bar?baz=https://foo.bar\n", "foobot", f"{_E}/foo/bar?baz=https://foo.bar", True),
    ("2.2.2", "table 1: non-ASCII rule", _ALL_BUT + "/foo/bar/ツ\n", "foobot", f"{_E}/foo/bar/%E3%83%84", True),
    ("2.2.2", "table 1: non-ASCII URI", _ALL_BUT + "/foo/bar/ツ\n", "foobot", f"{_E}/foo/bar/ツ", True),
    ("2.2.2", "table 1: encoded rule", _ALL_BUT + "/foo/bar/%E3%83%84\n", "foobot", f"{_E}/foo/bar/%E3%83%84", True),
    ("2.2.2", "table 1: encoded unreserved octets", _ALL_BUT + "/foo/bar/baz\n", "foobot", f"{_E}/foo/bar/%62%61%7A", True),
    ("2.2.3", "comments", "User-agent: *\nDisallow: / # comment in line\n# Allow: /\n", "foobot", f"{_E}/x", False),
    ("2.2.3", "$ ends the pattern", _ALL_BUT + "/this/path/exactly$\n", "foobot", f"{_E}/this/path/exactly", True),
    ("2.2.3", "$ ends the pattern", _ALL_BUT + "/this/path/exactly$\n", "foobot", f"{_E}/this/path/exactly/not", False),
    ("2.2.3", "* matches any run", _ALL_BUT + "/this/*/exactly\n", "foobot", f"{_E}/this/path/exactly", True),
    ("2.2.3", "* matches any run", _ALL_BUT + "/this/*/exactly\n", "foobot", f"{_E}/this/exactly", False),
    ("2.2.3", "percent-encoded *", "User-agent: *\nDisallow: /path/file-with-a-%2A.html\n", "foobot", f"{_E}/path/file-with-a-*.html", False),
    ("2.2.3", "percent-encoded *", "User-agent: *\nDisallow: /path/file-with-a-%2A.html\n", "foobot", f"{_E}/path/file-with-a-x.html", True),
    ("2.2.3", "percent-encoded $", "User-agent: *\nDisallow: /path/foo-%24\n", "foobot", f"{_E}/path/foo-$", False),
    ("2.2.4", "a Sitemap record does not end a group", "User-agent: foobot\nSitemap: https://www.example.com/sitemap.xml\nUser-agent: barbot\nDisallow: /\n", "foobot", f"{_E}/x", False),
    ("2.3.1.3", "4xx: anything may be crawled", "User-agent: *\nDisallow: /\n", "foobot", f"{_E}/x", True, 404),
    ("2.3.1.4", "5xx: complete disallow", "", "foobot", f"{_E}/x", False, 503),
    ("5.1", "* group", _RFC_5_1, "otherbot", f"{_E}/publications/x", True),
    ("5.1", "* group", _RFC_5_1, "otherbot", f"{_E}/example/x", False),
    ("5.1", "* group", _RFC_5_1, "otherbot", f"{_E}/images/x.gif", False),
    ("5.1", "* group, longest match", _RFC_5_1, "otherbot", f"{_E}/publications/x.gif", True),
    ("5.1", "* group", _RFC_5_1, "otherbot", f"{_E}/x.gif?size=2", True),
    ("5.1", "* group", _RFC_5_1, "otherbot", f"{_E}/other", True),
    ("5.1", "foobot", _RFC_5_1, "foobot", f"{_E}/example/page.html", True),
    ("5.1", "foobot", _RFC_5_1, "foobot", f"{_E}/example/allowed.gif", True),
    ("5.1", "foobot", _RFC_5_1, "foobot", f"{_E}/example/other.html", False),
    ("5.1", "foobot", _RFC_5_1, "foobot", f"{_E}/publications/x", False),
    ("5.1", "barbot and bazbot", _RFC_5_1, "barbot", f"{_E}/example/page.html", False),
    ("5.1", "barbot and bazbot", _RFC_5_1, "bazbot", f"{_E}/example/page.html", False),
    ("5.1", "barbot and bazbot", _RFC_5_1, "barbot", f"{_E}/example/other.html", True),
    ("5.1", "barbot and bazbot", _RFC_5_1, "bazbot", f"{_E}/images/x.gif", True),
    ("5.1", "quxbot: empty group", _RFC_5_1, "quxbot", f"{_E}/example/page.html", True),
    ("5.1", "quxbot: empty group", _RFC_5_1, "quxbot", f"{_E}/x.gif", True),
    ("5.2", "longest match", _RFC_5_2, "foobot", f"{_E}/example/page/", True),
    ("5.2", "longest match", _RFC_5_2, "foobot", f"{_E}/example/page/disallowed.gif", False),
    ("5.2", "longest match", _RFC_5_2, "foobot", f"{_E}/example/page/allowed.gif", True),
]  # fmt: skip


def rfc_cases() -> list[dict]:
    cases = []
    for section, shows, robots, agent, url, allowed, *status in RFC_CASES:
        case = {
            "source": f"RFC 9309 §{section} {shows}",
            "test": f"section{section}",
            "robots_txt": robots,
            "user_agent": agent,
            "url": url,
            "allowed": allowed,
        }
        if status:
            case["status"] = status[0]
        cases.append(case)
    return cases


# --- google/robotstxt robots_test.cc ----------------------------------------------------------
_TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"((?:[^"\\]|\\.)*)"|([A-Za-z_][\w:]*)|(\S)', re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t"}


def _c_string(literal: str) -> bytes:
    out, i, raw = bytearray(), 0, literal.encode("utf-8")
    while i < len(raw):
        if raw[i] != 0x5C:  # backslash
            out.append(raw[i])
            i += 1
        elif raw[i + 1 : i + 2] == b"x":
            digits = re.match(rb"[0-9A-Fa-f]{1,2}", raw[i + 2 :]).group(0)
            out.append(int(digits, 16))
            i += 2 + len(digits)
        else:
            out += _ESCAPES.get(raw[i + 1 : i + 2], raw[i + 1 : i + 2])
            i += 2
    return bytes(out)


def _statements(body: str):
    statement: list[tuple[str, object]] = []
    for match in _TOKEN.finditer(body):
        if match.group(0).startswith(("//", "/*")):
            continue
        if match.group(1) is not None:
            token = ("str", _c_string(match.group(1)))
        elif match.group(2):
            token = ("id", match.group(2))
        else:
            token = ("p", match.group(3))
        if token in (("p", ";"), ("p", "{"), ("p", "}")):
            if statement:
                yield statement
            statement = []
        else:
            statement.append(token)


def _value(tokens, names):
    if tokens and all(kind == "str" for kind, _ in tokens):
        return b"".join(text for _, text in tokens)
    if len(tokens) == 1 and tokens[0][0] == "id":
        return names.get(tokens[0][1])
    return None  # built at run time (absl::StrCat): not read


def _arguments(tokens):
    args, depth, current = [], 0, []
    for token in tokens:
        if token == ("p", ",") and depth == 0:
            args.append(current)
            current = []
            continue
        depth += (token == ("p", "(")) - (token == ("p", ")"))
        current.append(token)
    return [*args, current]


def google_cases(robots_test: str) -> list[dict]:
    cases = []
    for test in re.finditer(r"^TEST\(RobotsUnittest, (\w+)\) \{(.*?)^\}", robots_test, re.S | re.M):
        name, names = test.group(1), {}
        for statement in _statements(test.group(2)):
            head = statement[0][1]
            if head in ("const", "std::string", "absl::string_view") and ("p", "=") in statement:
                at = statement.index(("p", "="))
                names[statement[at - 1][1]] = _value(statement[at + 1 :], names)
                continue
            call = ("id", "IsUserAgentAllowed")
            if head not in ("EXPECT_TRUE", "EXPECT_FALSE") or call not in statement:
                continue
            args = _arguments(statement[statement.index(call) + 2 : -2])
            robots, agent, url = (_value(arg, names) for arg in args)
            if robots is None or agent is None or url is None:
                continue
            cases.append(
                {
                    "source": f"google/robotstxt robots_test.cc {name}",
                    "test": name,
                    "robots_txt": robots.decode("utf-8"),
                    "user_agent": agent.decode("utf-8"),
                    "url": url.decode("utf-8"),
                    "allowed": head == "EXPECT_TRUE",
                }
            )
    return cases


# --- scrapy/protego tests -----------------------------------------------------------------------
_RECORDER = """
import json, os
from protego import Protego

RECORDS = []
_parse, _can_fetch = Protego.parse.__func__, Protego.can_fetch

def parse(cls, content):
    parser = _parse(cls, content)
    parser._recorded_content = content
    return parser

def can_fetch(self, url, user_agent):
    allowed = _can_fetch(self, url, user_agent)
    test = os.environ["PYTEST_CURRENT_TEST"].split(" ")[0]
    RECORDS.append({"test": test, "robots_txt": self._recorded_content,
                    "user_agent": user_agent, "url": url, "allowed": allowed})
    return allowed

Protego.parse, Protego.can_fetch = classmethod(parse), can_fetch

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["RECORDS_OUT"], "w") as out:
        json.dump(RECORDS, out)
"""


def protego_cases(git_dir: Path) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("test_protego.py", "test_on_google_spec.py"):
            (folder / name).write_text(_git(git_dir, "show", f"HEAD:tests/{name}"))
        (folder / "conftest.py").write_text(_RECORDER)
        out = folder / "records.json"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
            env={**os.environ, "RECORDS_OUT": str(out)},
            cwd=folder,
            timeout=300,
            check=False,  # test_bytestrings fails on protego 0.7 (bytes input): skipped
        )
        records = json.loads(out.read_text())
    cases = []
    for record in records:
        file, _, test = record.pop("test").partition("::")
        test = test.split("::")[-1]
        cases.append({"source": f"scrapy/protego tests/{file} {test}", "test": test, **record})
    return cases


def skip_reason(origin: str, case: dict) -> str | None:
    for source, test, selector, reason in SKIPPED:
        if source != origin or not case["test"].startswith(test):
            continue
        if selector is None or any(selector in case[k] for k in ("user_agent", "url", "test")):
            return reason
    return None


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(git_dir), *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout


def main(google: Path, protego: Path) -> None:
    kept, skipped = [], 0
    for origin, cases in (
        ("rfc9309", rfc_cases()),
        ("google", google_cases(_git(google, "show", "HEAD:robots_test.cc"))),
        ("protego", protego_cases(protego)),
    ):
        numbers: dict[str, int] = {}
        for case in cases:
            if skip_reason(origin, case):
                skipped += 1
                continue
            test = case.pop("test")
            numbers[test] = numbers.get(test, 0) + 1
            kept.append({"id": f"{origin}/{test}#{numbers[test]}", **case})
    header = {
        "about": "robots.txt access decisions of peer suites, generated by "
        "generate_robots_cases.py; see README.md",
        "sources": {
            "google/robotstxt": f"{_git(google, 'rev-parse', 'HEAD').strip()} robots_test.cc",
            "scrapy/protego": f"{_git(protego, 'rev-parse', 'HEAD').strip()} "
            "tests/test_protego.py tests/test_on_google_spec.py (answers of protego 0.7.0)",
            "RFC 9309": "https://www.rfc-editor.org/rfc/rfc9309 §2.2.1-2.2.4, §2.3.1, §5",
        },
        "skipped": [
            {"origin": s, "test": t, "cases": sel or "all", "reason": r} for s, t, sel, r in SKIPPED
        ],
        "skipped_case_count": skipped,
        "case_count": len(kept),
    }
    OUT.write_text(json.dumps({**header, "cases": kept}, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(kept)} cases written, {skipped} skipped")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
