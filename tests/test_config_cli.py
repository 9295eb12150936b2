"""Configuration through the command line: ``paperboy [--config PATH] check-config``.

A bad file gives exit status 2 and one clear line naming the key; a good one prints the effective
configuration with the token masked. Where the file comes from: ``--config``, else
``$PAPERBOY_CONFIG``, else ``./config.toml``, else the built-in defaults.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.core.config import load_config
from bot.ingest.poller import feed_specs
from bot.process import cli

PAPERBOY = Path(sys.executable).with_name("paperboy")
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.s3cr3t-t0ken-never-to-be-printed"
FILE_TOKEN = "file-token-0123456789-also-never-printed"
DEFAULT_CATEGORIES = ["cs.LG", "cs.AI", "cs.CL", "cs.CV", "stat.ML"]

VALID = f"""\
[discord]
token = "{FILE_TOKEN}"
[storage]
path = "store.sqlite3"
[http]
timeout = "5s"
max_body_bytes = 100000
[arxiv]
rss_url = "http://127.0.0.1:9/rss/{{categories}}"
api_url = "http://127.0.0.1:9/api/query"
categories = ["cs.LG", "math.CA", "hep-th"]
[[feeds]]
name = "shortscience"
kind = "shortscience"
url = "http://127.0.0.1:9/rss.xml"
[[feeds]]
name = "lab-blog"
kind = "rss"
url = "https://blog.example.org/feed.xml"
interval = "2h"
[digest]
time = "07:30"
timezone = "Europe/Berlin"
"""


def env_without_paperboy(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run(*args: str, cwd: Path, module: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot"] if module else [str(PAPERBOY)]
    return subprocess.run([*command, *args], cwd=cwd, env=env_without_paperboy(**env),
                          capture_output=True, text=True, encoding="utf-8", timeout=60)


def effective(result: subprocess.CompletedProcess[str]) -> tuple[str, dict[str, Any]]:
    """(source, configuration) printed by check-config."""
    assert result.returncode == 0, result.stderr
    first, _, rest = result.stdout.partition("\n")
    assert first.startswith("# effective configuration (from ") and first.endswith(")")
    return first.removeprefix("# effective configuration (from ")[:-1], json.loads(rest)


def assert_one_clear_line(stderr: str, key: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    [line] = lines
    assert line.startswith("paperboy: configuration error: "), line
    assert "Traceback" not in stderr
    assert key in line, f"{key!r} not named in {line!r}"
    assert len(line) < 300


# -- bad configuration: exit 2, one line naming the key ----------------------------------------------

BAD = {
    "unknown key": ('[http]\ntimeout_s = "5s"\n', "http.timeout_s"),
    "wrong type": ('[http]\nmax_body_bytes = "big"\n', "http.max_body_bytes"),
    "bad url": ('[[feeds]]\nname = "blog"\nurl = "not a url"\n', "feeds[0].url"),
    "bad duration": ('[http]\ntimeout = "20 parsecs"\n', "http.timeout"),
    "bad timezone": ('[digest]\ntimezone = "Mars/Olympus_Mons"\n', "digest.timezone"),
    "unknown arxiv category": ('[arxiv]\ncategories = ["cs.LG", "cs.XX"]\n', "arxiv.categories[1]"),
    "duplicate feed name": ('[[feeds]]\nname = "blog"\nurl = "https://a.example/rss"\n'
                            '[[feeds]]\nname = "blog"\nurl = "https://b.example/rss"\n', "feeds[1].name"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_config_exits_2_with_one_line_naming_the_key(case: str, tmp_path: Path) -> None:
    text, key = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = run("--config", str(path), "check-config", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert_one_clear_line(result.stderr, key)


MORE_BAD = {
    "unknown section": ('[htpp]\ntimeout = "5s"\n', "htpp"),
    "string for a duration": ("[http]\ntimeout = 20\n", "http.timeout"),
    "negative number": ("[http]\nretries = -1\n", "http.retries"),
    "bool for a number": ("[discord]\nops_channel_id = true\n", "discord.ops_channel_id"),
    "string for a list": ('[arxiv]\ncategories = "cs.LG"\n', "arxiv.categories"),
    "section not a table": ("http = 5\n", "http"),
    "bad api url": ('[arxiv]\napi_url = "ftp://export.arxiv.org/api/query"\n', "arxiv.api_url"),
    "bad discord url": ('[discord]\napi_base = "discord.com/api"\n', "discord.api_base"),
    "rss url without placeholder": ('[arxiv]\nrss_url = "https://rss.arxiv.org/rss/"\n', "arxiv.rss_url"),
    "bad feed interval": ('[[feeds]]\nname = "blog"\nurl = "https://a.example/rss"\ninterval = "soon"\n',
                          "feeds[0].interval"),
    "feed kind": ('[[feeds]]\nname = "blog"\nkind = "atom"\nurl = "https://a.example/rss"\n',
                  "feeds[0].kind"),
    "feed without url": ('[[feeds]]\nname = "blog"\n', "feeds[0]"),
    "feed name reserved": ('[[feeds]]\nname = "arxiv"\nurl = "https://a.example/rss"\n', "feeds[0].name"),
    "feeds not an array": ("feeds = 5\n", "feeds"),
    "topic that is no category": ('[arxiv]\ncategories = ["author:Sergey Levine"]\n', "arxiv.categories[0]"),
    "bad digest time": ('[digest]\ntime = "25:00"\n', "digest.time"),
    "bad log level": ('[logging]\nlevel = "LOUD"\n', "logging.level"),
    "body cap too small": ("[http]\nmax_body_bytes = 10\n", "http.max_body_bytes"),
    "not TOML": ("[arxiv\n", "bad.toml"),
}


@pytest.mark.parametrize("case", list(MORE_BAD))
def test_more_bad_configs_in_process(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text, key = MORE_BAD[case]
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    assert cli.main(["--config", "bad.toml", "check-config"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_clear_line(captured.err, key)


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "nope.toml"), "check-config", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "nope.toml")


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    """A directory (or a file we may not read) given as the config is a config error, not a crash."""
    result = run("--config", str(tmp_path), "check-config", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert_one_clear_line(result.stderr, str(tmp_path))


def test_not_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('[digest]\ntimezone = "Europe/Zürich"\n'.encode("latin-1"))
    result = run("--config", str(path), "check-config", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "latin.toml")


# -- a valid file ---------------------------------------------------------------------------------

def test_valid_config_exit_0_and_token_masked(tmp_path: Path) -> None:
    path = tmp_path / "paperboy.toml"
    path.write_text(VALID, encoding="utf-8")
    result = run("--config", str(path), "check-config", cwd=tmp_path, PAPERBOY_DISCORD_TOKEN=TOKEN)
    source, config = effective(result)
    assert source == str(path)
    for secret in (TOKEN, TOKEN[4:], TOKEN[-12:], FILE_TOKEN, FILE_TOKEN[4:]):
        assert secret not in result.stdout and secret not in result.stderr
    assert config["discord"]["token"] != TOKEN and "(" in config["discord"]["token"]
    assert config["arxiv"]["categories"] == ["cs.LG", "math.CA", "hep-th"]
    assert [f["name"] for f in config["feeds"]] == ["shortscience", "lab-blog"]
    assert config["feeds"][1]["interval"] == "2h"
    assert config["digest"] == {**config["digest"], "time": "07:30", "timezone": "Europe/Berlin"}
    assert config["http"]["timeout"] == "5s"


@pytest.mark.parametrize("token", [FILE_TOKEN, "short1"])
def test_file_token_is_masked_too(token: str, tmp_path: Path) -> None:
    path = tmp_path / "paperboy.toml"
    path.write_text(VALID.replace(FILE_TOKEN, token), encoding="utf-8")
    result = run("--config", str(path), "check-config", cwd=tmp_path)
    _source, config = effective(result)
    assert token not in result.stdout and token not in result.stderr
    assert config["discord"]["token"] not in ("", "(not set)")


def test_python_m_bot_check_config(tmp_path: Path) -> None:
    path = tmp_path / "paperboy.toml"
    path.write_text(VALID, encoding="utf-8")
    as_module = run("--config", str(path), "check-config", cwd=tmp_path, module=True,
                    PAPERBOY_DISCORD_TOKEN=TOKEN)
    assert TOKEN not in as_module.stdout + as_module.stderr
    as_script = run("--config", str(path), "check-config", cwd=tmp_path, PAPERBOY_DISCORD_TOKEN=TOKEN)
    assert effective(as_module) == effective(as_script)
    bad = tmp_path / "bad.toml"
    bad.write_text('[digest]\ntimezone = "Nowhere/Special"\n', encoding="utf-8")
    result = run("--config", str(bad), "check-config", cwd=tmp_path, module=True)
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "digest.timezone")


# -- where the configuration comes from -------------------------------------------------------------

def test_resolution_order(tmp_path: Path) -> None:
    def write(path: Path, clock: str) -> Path:
        path.write_text(f'[digest]\ntime = "{clock}"\n', encoding="utf-8")
        return path

    explicit = write(tmp_path / "explicit.toml", "01:00")
    from_env = write(tmp_path / "env.toml", "02:00")
    write(tmp_path / "config.toml", "03:00")

    source, config = effective(run("--config", str(explicit), "check-config", cwd=tmp_path,
                                   PAPERBOY_CONFIG=str(from_env)))
    assert (source, config["digest"]["time"]) == (str(explicit), "01:00")

    source, config = effective(run("check-config", cwd=tmp_path, PAPERBOY_CONFIG=str(from_env)))
    assert (source, config["digest"]["time"]) == (str(from_env), "02:00")

    source, config = effective(run("check-config", cwd=tmp_path))
    assert (source, config["digest"]["time"]) == ("config.toml", "03:00")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    source, config = effective(run("check-config", cwd=elsewhere))
    assert (source, config["digest"]["time"]) == ("built-in defaults", "08:00")

    # $PAPERBOY_CONFIG naming a missing file is an error, not a silent fall-back to ./config.toml.
    result = run("check-config", cwd=tmp_path, PAPERBOY_CONFIG=str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "missing.toml")


def test_defaults_poll_the_five_categories_and_shortscience(tmp_path: Path) -> None:
    source, config = effective(run("check-config", cwd=tmp_path))
    assert source == "built-in defaults"
    assert config["arxiv"]["categories"] == DEFAULT_CATEGORIES
    [feed] = config["feeds"]
    assert (feed["name"], feed["kind"]) == ("shortscience", "shortscience")
    url = urlsplit(feed["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "www.shortscience.org", "/rss.xml")
    assert config["discord"]["token"] == "(not set)"


def test_default_feed_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PAPERBOY_CONFIG", raising=False)
    config = load_config(None)
    assert config.source == "built-in defaults"
    specs = {s.name: s for s in feed_specs(config)}
    assert list(specs) == [f"arxiv:{c}" for c in DEFAULT_CATEGORIES] + ["shortscience"]
    assert specs["arxiv:cs.LG"].url == "https://rss.arxiv.org/rss/cs.LG"
    assert specs["arxiv:stat.ML"].kind == "arxiv"
    assert specs["shortscience"].url == "https://www.shortscience.org/rss.xml"
    assert specs["shortscience"].kind == "shortscience"


def test_no_command_is_usage_error(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert "usage" in result.stderr.lower()
