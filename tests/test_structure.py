"""The structure ARCHITECTURE.md describes, checked: file sizes, thin cogs, enforced layers.

The import contracts live in pyproject.toml (``[tool.importlinter]``); this module proves they
bite: a forbidden import added to a copy of the tree makes ``lint-imports`` fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGES = ("bot", "cogs", "storage", "doubles")


def _line_cap() -> tuple[int, dict[str, str]]:
    table = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["paperboy"]["line-cap"]
    return int(table["max"]), dict(table.get("exceptions", {}))


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES if (REPO / package).is_dir()
                  for p in (REPO / package).rglob("*.py"))


def test_no_module_is_longer_than_the_cap_unless_it_says_why() -> None:
    cap, exceptions = _line_cap()
    too_long = {str(p.relative_to(REPO)): n for p in _sources()
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > cap}
    unexplained = sorted(set(too_long) - set(exceptions))
    assert not unexplained, f"over {cap} lines without a reason in pyproject.toml: " + ", ".join(
        f"{path} ({too_long[path]})" for path in unexplained)
    for path, why in exceptions.items():
        assert (REPO / path).exists(), f"line-cap exception for a file that is gone: {path}"
        assert len(why.split()) >= 5, f"say why {path} may be long"


def test_no_cog_touches_a_store() -> None:
    for path in (REPO / "cogs").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "services.store" not in text and ".store." not in text, path


def _lint_imports() -> str:
    beside_python = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    found = beside_python or shutil.which("lint-imports")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("lint-imports is not installed (pip install -e '.[test]')")
        pytest.skip("lint-imports is not installed")
    return found


def _run_lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_lint_imports(), "--no-cache"], cwd=tree, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tree)}, timeout=120)


def test_the_import_contracts_hold() -> None:
    result = _run_lint(REPO)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(("module", "forbidden", "contract"), [
    ("bot/core/ids.py", "import discord", "import nothing of Discord"),
    ("storage/models.py", "import bot.core.topics", "storage knows nothing"),
    ("cogs/admin.py", "from storage.base import Store", "never to a store"),
    ("bot/core/topics.py", "import bot.services.lookup", "Layers"),
])
def test_a_forbidden_import_breaks_the_contracts(tmp_path: Path, module: str, forbidden: str,
                                                 contract: str) -> None:
    for name in ("bot", "cogs", "storage"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{forbidden}  # noqa\n", encoding="utf-8")
    result = _run_lint(tmp_path)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "BROKEN" in result.stdout and contract in result.stdout, result.stdout[-2000:]


def test_config_example_documents_every_key_with_its_default() -> None:
    """config.example.toml holds every configuration key, each at its default value."""
    from bot.core.config import describe, parse_config

    example = tomllib.loads((REPO / "config.example.toml").read_text(encoding="utf-8"))
    defaults = describe(parse_config({}))
    written = describe(parse_config(example))
    assert written == defaults, "the example's values are the defaults"
    for section, keys in defaults.items():
        if section in ("source", "feeds") or not isinstance(keys, dict):
            continue
        missing = sorted(set(keys) - set(example.get(section, {})))
        assert not missing, f"config.example.toml lacks [{section}] {', '.join(missing)}"
