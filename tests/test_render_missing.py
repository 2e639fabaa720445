"""README: "no scrapy-playwright stops the crawl at start with a message saying what to install
(exit status 1), before any request" — checked in a process where it cannot be imported."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, crawl_command, log_length, requests_since

# `scrapy` with scrapy_playwright made unimportable (a None entry in sys.modules makes `import`
# raise ImportError), whether or not it is installed here.
WITHOUT_PLAYWRIGHT = (
    "import sys; sys.modules['scrapy_playwright'] = None; "
    "from scrapy.cmdline import execute; execute(['scrapy', *sys.argv[1:]])"
)


def test_rendering_without_scrapy_playwright_stops_with_one_line(gate_site, tmp_path):
    before = log_length(gate_site)
    command = crawl_command(tmp_path, urls=[f"{gate_site.origins['open']}/"], args={"render": "js"})
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PLAYWRIGHT, *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "scrapy-playwright" in line]
    assert len(lines) == 1, output
    assert "pip install 'rightscrawl[browser]'" in lines[0]
    assert requests_since(gate_site, before) == []  # before any request
    assert not list(tmp_path.glob("warc/*.warc.gz*"))
