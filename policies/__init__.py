"""Rights-reservation policy: signal parsers and the engine that decides, with no Scrapy import.

Everything here is pure: it takes documents and headers that someone else fetched and returns
typed, frozen values (`policies.evidence`). The crawler adapts it to Scrapy; other pipelines can
call it directly.
"""

from __future__ import annotations

from policies.assess import Assessment, assess
from policies.engine import decide
from policies.evidence import AccessInfo, Decision, PolicyRef, Signal
from policies.profile import Profile, ProfileError, load_profile

__all__ = [
    "AccessInfo",
    "Assessment",
    "assess",
    "Decision",
    "PolicyRef",
    "Profile",
    "ProfileError",
    "Signal",
    "decide",
    "load_profile",
]
