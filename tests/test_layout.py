"""The layout the README states, held: `pipelines/` imports nothing of `crawler/` but its shared
contracts, and `policies/` imports neither Scrapy nor the other two packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, wherever the import statement is (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("path", sources("pipelines"), ids=lambda p: str(p.relative_to(REPO)))
def test_pipelines_import_only_the_contracts_of_the_crawler(path):
    crawler_imports = {
        name for name in imported_modules(path) if name == "crawler" or name.startswith("crawler.")
    }
    assert crawler_imports <= {"crawler.contracts"} | {
        name for name in crawler_imports if name.startswith("crawler.contracts.")
    }, crawler_imports


@pytest.mark.parametrize("path", sources("policies"), ids=lambda p: str(p.relative_to(REPO)))
def test_policies_need_no_crawler(path):
    forbidden = {
        name
        for name in imported_modules(path)
        if name.split(".")[0] in ("scrapy", "twisted", "crawler", "pipelines")
    }
    assert not forbidden, forbidden


def test_the_check_sees_a_forbidden_import(tmp_path):
    planted = tmp_path / "x.py"
    planted.write_text("def f():\n    from crawler.config import force\n")
    assert "crawler.config" in imported_modules(planted)
