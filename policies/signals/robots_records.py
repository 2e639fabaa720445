"""The records of robots.txt that are not access rules: AIPREF `Content-Usage`, Cloudflare
`Content-Signal` (both group-scoped) and RSL `License` (global).

robots.py reads only the access records, so this is a second pass over the same text, grouping as
RFC 9309 §2.2 does: consecutive user-agent lines open one group, which runs until a user-agent line
that follows a rule; records that are not rules (Content-Signal, unknown fields) never end a group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.signals.robots import product_token

_USER_AGENT = frozenset({"user-agent", "useragent", "user agent"})
# Rules in the RFC 9309 sense (AIPREF attach §5 adds content-usage to `rule`).
_RULES = frozenset({"allow", "disallow", "content-usage"})


@dataclass(slots=True)
class Group:
    agents: list[str] = field(default_factory=list)
    records: list[tuple[str, str]] = field(default_factory=list)  # (field lower-cased, value)


@dataclass(frozen=True, slots=True)
class RobotsRecords:
    groups: tuple[Group, ...]
    licenses: tuple[str, ...]  # RSL `License:` URLs, global
    outside_groups: tuple[tuple[str, str], ...]  # records before any user-agent line

    @classmethod
    def parse(cls, text: str) -> RobotsRecords:
        groups: list[Group] = []
        licenses: list[str] = []
        outside: list[tuple[str, str]] = []
        current: Group | None = None
        in_agent_lines = False
        for line in text.lstrip("\ufeff").splitlines():
            content = line.split("#", 1)[0].strip()
            name, sep, value = content.partition(":")
            if not sep:
                continue
            name = " ".join(name.lower().split())
            value = value.strip()
            if name in _USER_AGENT:
                if current is None or not in_agent_lines:
                    current = Group()
                    groups.append(current)
                current.agents.append(value)
                in_agent_lines = True
                continue
            if name == "license":
                licenses.append(value)
                continue
            if name in _RULES:
                in_agent_lines = False
            if current is None:
                outside.append((name, value))
            else:
                current.records.append((name, value))
        return cls(tuple(groups), tuple(licenses), tuple(outside))

    def records_for(self, user_agent: str, name: str) -> list[str]:
        """Values of `name` in the groups that apply to `user_agent` (RFC 9309 §2.2.1)."""
        token = product_token(user_agent)
        named = [
            g for g in self.groups if any(product_token(a) == token for a in g.agents if a != "*")
        ]
        chosen = named or [g for g in self.groups if "*" in g.agents]
        return [value for g in chosen for field_name, value in g.records if field_name == name]
