"""The README's set-up, followed as a newcomer would, and the Dockerfile kept in step with it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from doubles.feed_server import FeedServer
from tests.helpers import BIG_FEED, REPO, shared_feed

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def setup_commands() -> tuple[str, str]:
    """The two commands under '## Set-up: two commands': run the bot, run the tests."""
    section = README.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)\n```", section, re.DOTALL)
    assert len(blocks) == 2, "two set-up commands"
    return blocks[0].strip(), blocks[1].strip()


def test_the_two_commands_are_what_ci_and_docker_run() -> None:
    run_bot, run_tests = setup_commands()
    assert run_bot.endswith("paperboy run") and "pip install -e ." in run_bot
    assert "pip install -e '.[test]'" in run_tests and run_tests.endswith("python -m pytest")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install" in ci and "-e '.[test]'" in ci and "python -m pytest" in ci
    # Docker installs the same project (its dependencies from pyproject.toml, nothing pinned
    # elsewhere) and runs the same entry point.
    assert re.search(r"^RUN pip install \.$", DOCKERFILE, re.MULTILINE)
    assert 'ENTRYPOINT ["paperboy"]' in DOCKERFILE and 'CMD ["run"]' in DOCKERFILE
    assert "COPY pyproject.toml" in DOCKERFILE
    assert not list(REPO.glob("requirements*.txt")), "one list of dependencies: pyproject.toml"
    assert re.search(r"^USER paperboy$", DOCKERFILE, re.MULTILINE) and "VOLUME [\"/data\"]" in DOCKERFILE
    assert 'CMD ["paperboy", "health"]' in DOCKERFILE
    assert "FROM python:3.11-slim" in DOCKERFILE


@pytest.mark.skipif(shutil.which("python3") is None, reason="needs python3 on PATH")
async def test_newcomer_follows_the_readme_in_a_fresh_venv(tmp_path: Path, feed_server: FeedServer) -> None:
    """Install with the README's command into a new venv, then check-config, poll, preview and
    the test command (collection only: the suite does not run itself)."""
    run_bot, run_tests = setup_commands()
    install = run_bot.split(" && PAPERBOY_DISCORD_TOKEN")[0].replace(".venv", str(tmp_path / "venv"))
    subprocess.run(install, shell=True, cwd=REPO, check=True, timeout=900,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    paperboy = tmp_path / "venv" / "bin" / "paperboy"
    env = {k: v for k, v in os.environ.items() if k not in ("PAPERBOY_CONFIG", "PAPERBOY_DISCORD_TOKEN")}

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        """In a thread: the feed server answering it runs on this test's event loop."""
        return await asyncio.to_thread(subprocess.run, [str(paperboy), *args], cwd=tmp_path, env=env,
                                       capture_output=True, text=True, timeout=300)

    checked = await cli("--config", str(REPO / "config.example.toml"), "check-config")
    assert checked.returncode == 0, checked.stderr
    assert '"cs.LG"' in checked.stdout and "shortscience" in checked.stdout

    feed_server.serve("/rss/cs.LG", shared_feed(BIG_FEED))
    feed_server.serve("/ss.xml", shared_feed("shortscience_rss_sample.xml"))
    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    local = (example.replace("https://rss.arxiv.org/rss/{categories}", feed_server.url("/rss/{categories}"))
             .replace("https://export.arxiv.org/api/query", feed_server.url("/api/query"))
             .replace("https://www.shortscience.org/rss.xml", feed_server.url("/ss.xml"))
             .replace('request_interval = "3s"', 'request_interval = "0s"')
             .replace('categories = ["cs.LG", "cs.AI", "cs.CL", "cs.CV", "stat.ML"]',
                      'categories = ["cs.LG"]'))
    (tmp_path / "config.toml").write_text(local, encoding="utf-8")  # ./config.toml is found by itself
    polled = await cli("poll", "--json")
    assert polled.returncode == 0, polled.stderr[-2000:]
    report = json.loads(polled.stdout)
    assert report["totals"]["new_papers"] == 1504, report
    assert report["totals"]["new_summaries"] == 4, report
    preview = await cli("preview", "--follow", "cs.LG", "--json")
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["items"]

    test_command = run_tests.replace(".venv", str(tmp_path / "venv")).replace(
        "pip install -e '.[test]'", "pip install -q -e '.[test]'") + " --collect-only -q"
    collected = subprocess.run(test_command, shell=True, cwd=REPO, env={**env, "PYTHONPATH": ""},
                               capture_output=True, text=True, timeout=900)
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert re.search(r"\d+ tests collected", collected.stdout)
    assert sys.executable  # the suite itself runs in the outer venv
