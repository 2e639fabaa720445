"""The AI-training agent tokens (policies/registries/ai_training_agents.toml), as product tokens."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from policies.signals.robots import agent_name

REGISTRY = Path(__file__).parent / "registries" / "ai_training_agents.toml"


@dataclass(frozen=True, slots=True)
class AgentList:
    agents: tuple[str, ...]  # as listed
    tokens: frozenset[str]  # names as sites write them, lower-cased (`agent_name`)
    source: str
    snapshot: str


@lru_cache(maxsize=1)
def training_agents() -> AgentList:
    data = tomllib.loads(REGISTRY.read_text(encoding="utf-8"))
    agents = tuple(data["agents"])
    return AgentList(
        agents, frozenset(filter(None, map(agent_name, agents))), data["source"], data["snapshot"]
    )
