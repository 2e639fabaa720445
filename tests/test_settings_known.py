"""Every setting a component reads by one of our prefixes has a default, so a user's `-s NAME=…`
is type-checked and never refused as unknown (crawler.config.validate)."""

from __future__ import annotations

import re

from crawler.addon import DEFAULTS
from crawler.config import OUR_PREFIXES
from crawler.render.config import DEFAULTS as RENDER_DEFAULTS
from tests.conftest import REPO

SETTING = re.compile("[\"']((?:" + "|".join(OUR_PREFIXES) + ")[A-Z0-9_]+)[\"']")


def test_every_setting_read_has_a_default():
    read = set()
    for folder in ("crawler", "pipelines"):
        for path in (REPO / folder).rglob("*.py"):
            read |= set(SETTING.findall(path.read_text(encoding="utf-8")))
    assert read - set(DEFAULTS) - set(RENDER_DEFAULTS) == set()
