"""Export and import of what the ranked digest added to a channel: ``layout``, ``top``, ``only_top``
and ``saves``, on real SQLite stores in tmp_path. A round trip keeps them, a re-import changes
nothing, each bad save or setting is refused naming where it is with nothing changed, saves merge
(added when missing, existing ones kept), and an export written before these keys still imports."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.process import cli
from bot.services.export_format import FORMAT_KEY, ImportFailure, dump_document
from bot.services.subscriptions import ScheduleRequest, SubscriptionService
from bot.services.transfer import ImportReport, export_document, import_document
from storage import Store, open_store
from storage.models import PaperRecord, Save
from tests.helpers import make_config

FEEDS: list[str] = []
LIMITS = (25, 500)
GUILD = 281474976710656001
C1, C2, C3 = 1311111111111111111, 1322222222222222222, 1333333333333333333
ALICE, BOB = 80351110224678912, 90351110224678913  # beyond 2**53: a double would round them
SAVED_AT = datetime(2024, 11, 28, 9, 12, tzinfo=UTC)


def fixed_clock() -> datetime:
    return SAVED_AT


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Store]:
    """Three channels: compact with only its top 3 and two members' saves; cards with one save;
    one that never chose a layout and saved nothing."""
    store = await open_store(tmp_path / "source.sqlite3", clock=fixed_clock)
    try:
        service = SubscriptionService(make_config(tmp_path, 9), store)
        for channel in (C1, C2, C3):
            await service.add(GUILD, channel, "cs.LG", False)
        await service.schedule(GUILD, C1, ScheduleRequest(layout="compact", top=3, only_top=True))
        await service.schedule(GUILD, C2, ScheduleRequest(layout="cards", top=0))
        for arxiv_id, user in (("2411.17702", ALICE), ("2411.17702", BOB), ("hep-th/9901001", ALICE)):
            assert await store.toggle_save(C1, arxiv_id, user)
        assert await store.toggle_save(C2, "1805.08296", BOB)
        yield store
    finally:
        await store.close()


@pytest.fixture
async def target(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "target.sqlite3")
    try:
        await store.store_papers([PaperRecord(arxiv_id="2411.00001", version=1, title="T", authors=["A"],
                                              abstract="x", categories=["cs.LG"])])
        yield store
    finally:
        await store.close()


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "exported_at"}


async def snapshot(store: Store) -> tuple[Any, ...]:
    """Everything an import may touch: the export, the channel rows, the topics and the saves."""
    return (comparable(await export_document(store)), await store.list_channels(),
            await store.list_subscriptions(), await store.list_saves())


# -- the round trip -------------------------------------------------------------------------------


async def test_export_writes_layout_top_only_top_and_saves(source: Store) -> None:
    document = json.loads(dump_document(await export_document(source)))
    first, second, third = document["channels"]
    assert (first["layout"], first["top"], first["only_top"]) == ("compact", 3, True)
    assert first["saves"] == [
        {"arxiv_id": "2411.17702", "user_id": str(ALICE), "saved_at": "2024-11-28T09:12:00+00:00"},
        {"arxiv_id": "2411.17702", "user_id": str(BOB), "saved_at": "2024-11-28T09:12:00+00:00"},
        {"arxiv_id": "hep-th/9901001", "user_id": str(ALICE), "saved_at": "2024-11-28T09:12:00+00:00"}]
    assert (second["layout"], second["top"], second["only_top"]) == ("cards", 0, False)
    assert [s["arxiv_id"] for s in second["saves"]] == ["1805.08296"]
    assert (third["layout"], third["top"], third["only_top"], third["saves"]) == (None, 10, False, [])
    assert all(isinstance(s["user_id"], str) for c in document["channels"] for s in c["saves"])


async def test_round_trip_into_a_second_store_keeps_saves_and_layout(source: Store, target: Store) -> None:
    document = await export_document(source)
    report = await import_document(target, dump_document(document), FEEDS, LIMITS)
    assert report == ImportReport(channels_created=3, topics_added=3, saves_added=4)
    assert comparable(await export_document(target)) == comparable(document)
    assert await target.list_saves() == await source.list_saves()
    channels = {c.channel_id: c for c in await target.list_channels()}
    assert (channels[C1].digest_layout, channels[C1].top, channels[C1].only_top) == ("compact", 3, True)
    assert (channels[C2].digest_layout, channels[C2].top, bool(channels[C2].only_top)) == ("cards", 0, False)
    assert (channels[C3].layout, channels[C3].digest_layout, channels[C3].top) == (None, "compact", 10)


async def test_reimport_is_a_no_op(source: Store, target: Store) -> None:
    text = dump_document(await export_document(source))
    await import_document(target, text, FEEDS, LIMITS)
    before = await snapshot(target)
    again = await import_document(target, text, FEEDS, LIMITS)
    assert again.changed == 0 and again.saves_added == 0
    assert again == ImportReport(channels_unchanged=3, topics_unchanged=3)
    assert await snapshot(target) == before
    # And into the store the file came from.
    assert (await import_document(source, text, FEEDS, LIMITS)).changed == 0


async def test_saves_merge_adding_what_is_missing_and_keeping_the_rest(source: Store, target: Store) -> None:
    document = await export_document(source)
    await import_document(target, document, FEEDS, LIMITS)
    # The channel here gains a save of its own; the file then brings one new save, one it has
    # (written another way and at another time) and leaves out one it has.
    assert await target.toggle_save(C1, "2411.00001", BOB)
    changed = copy.deepcopy(document)
    changed["channels"][0]["saves"] = [
        {"arxiv_id": "arXiv:2411.17702v3", "user_id": str(ALICE), "saved_at": "2030-01-01T00:00:00+02:00"},
        {"arxiv_id": "https://arxiv.org/abs/2411.55555", "user_id": str(ALICE),
         "saved_at": "2024-11-29T10:00:00+01:00"},
    ]
    report = await import_document(target, changed, FEEDS, LIMITS)
    assert report.saves_added == 1 and report.changed == 1
    saves = {(s.arxiv_id, s.user_id): s.saved_at for s in await target.list_saves([C1])}
    assert saves == {
        ("2411.17702", ALICE): "2024-11-28T09:12:00+00:00",  # kept as it was, not the file's time
        ("2411.17702", BOB): "2024-11-28T09:12:00+00:00",
        ("hep-th/9901001", ALICE): "2024-11-28T09:12:00+00:00",
        ("2411.00001", BOB): saves[("2411.00001", BOB)],
        ("2411.55555", ALICE): "2024-11-29T09:00:00+00:00",  # its base id, the time in UTC
    }
    assert (await import_document(target, changed, FEEDS, LIMITS)).changed == 0


async def test_the_same_save_twice_in_a_file_counts_once(target: Store) -> None:
    save = {"arxiv_id": "2411.17702", "user_id": str(ALICE), "saved_at": "2024-11-28T09:12:00Z"}
    document = {FORMAT_KEY: 1, "channels": [{
        "guild_id": str(GUILD), "channel_id": str(C1), "digest_time": "08:00", "timezone": "UTC",
        "saves": [save, {**save, "arxiv_id": "2411.17702v2", "saved_at": "2024-11-30T00:00:00+00:00"}]}]}
    report = await import_document(target, document, FEEDS, LIMITS)
    assert report.saves_added == 1
    assert await target.list_saves() == [Save(C1, "2411.17702", ALICE, "2024-11-28T09:12:00+00:00")]


async def test_settings_only_change_counts_as_an_update(source: Store, target: Store) -> None:
    document = await export_document(source)
    await import_document(target, document, FEEDS, LIMITS)
    changed = copy.deepcopy(document)
    changed["channels"][0]["only_top"] = False
    changed["channels"][1]["layout"] = "compact"
    changed["channels"][2]["top"] = 50
    report = await import_document(target, changed, FEEDS, LIMITS)
    assert (report.channels_updated, report.changed) == (3, 3)
    channels = {c.channel_id: c for c in await target.list_channels()}
    assert (bool(channels[C1].only_top), channels[C2].layout, channels[C3].top) == (False, "compact", 50)


# -- refusals: the entry named, nothing changed --------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def set_in(path: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = document
        for part in parents:
            node = node[part]
        node[last] = value
    return mutate


def drop(path: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = document
        for part in parents:
            node = node[part]
        del node[last]
    return mutate


INVALID: dict[str, tuple[Mutation, str]] = {
    "bad arXiv id": (set_in("channels.0.saves.1.arxiv_id", "2411.1"),
                     "channels[0].saves[1].arxiv_id: '2411.1' is not an arXiv id"),
    "arXiv id as a number": (set_in("channels.0.saves.0.arxiv_id", 2411.17702),
                             "channels[0].saves[0].arxiv_id: 2411.17702 is not an arXiv id"),
    "user id as a number": (set_in("channels.0.saves.2.user_id", ALICE),
                            "channels[0].saves[2].user_id: write ids as strings"),
    "user id not digits": (set_in("channels.1.saves.0.user_id", "bob"),
                           "channels[1].saves[0].user_id: 'bob' is not a Discord id"),
    "user id zero": (set_in("channels.1.saves.0.user_id", "0"), "channels[1].saves[0].user_id: '0'"),
    "time without zone": (set_in("channels.0.saves.0.saved_at", "2024-11-28T09:12:00"),
                          "channels[0].saves[0].saved_at: expected an ISO 8601 time with its zone"),
    "time not a time": (set_in("channels.0.saves.0.saved_at", "yesterday"),
                        "channels[0].saves[0].saved_at: expected an ISO 8601 time"),
    "time as a number": (set_in("channels.0.saves.0.saved_at", 1732785120),
                         "channels[0].saves[0].saved_at: expected an ISO 8601 time"),
    "unknown save key": (set_in("channels.1.saves.0.note", "great"),
                         "channels[1].saves[0]: unknown key 'note'"),
    "missing save key": (drop("channels.0.saves.1.user_id"), "channels[0].saves[1]: missing 'user_id'"),
    "save not an object": (set_in("channels.0.saves.1", "2411.17702"),
                           "channels[0].saves[1]: expected an object, got text"),
    "saves not a list": (set_in("channels.1.saves", {"arxiv_id": "1805.08296"}),
                         "channels[1].saves: expected a list of saves, got an object"),
    "top out of range": (set_in("channels.0.top", 51), "channels[0].top: 51"),
    "top negative": (set_in("channels.2.top", -1), "channels[2].top: -1"),
    "top as text": (set_in("channels.0.top", "3"), "channels[0].top: '3'"),
    "top as a bool": (set_in("channels.0.top", True), "channels[0].top: True"),
    "top as a float": (set_in("channels.0.top", 3.0), "channels[0].top: 3.0"),
    "bad layout": (set_in("channels.1.layout", "grid"), "channels[1].layout: 'grid' is not a layout"),
    "layout in capitals": (set_in("channels.1.layout", "Cards"), "channels[1].layout: 'Cards'"),
    "only_top not a bool": (set_in("channels.0.only_top", "yes"),
                            "channels[0].only_top: expected true or false"),
    "only_top as a number": (set_in("channels.0.only_top", 1),
                             "channels[0].only_top: expected true or false"),
    "unknown channel key": (set_in("channels.2.saved", []), "channels[2]: unknown key 'saved'"),
}


def changing(document: dict[str, Any]) -> dict[str, Any]:
    """The store's own export with changes a half-applied import would leave behind: a new save,
    a new topic and other settings in an earlier channel than the bad entry."""
    changed = copy.deepcopy(document)
    changed["channels"][0]["saves"].append(
        {"arxiv_id": "2411.99999", "user_id": str(BOB), "saved_at": "2024-11-30T00:00:00+00:00"})
    changed["channels"][0]["topics"].append({"topic": "protein folding", "exclude": False})
    changed["channels"][1]["top"] = 7
    changed["channels"][2]["layout"] = "cards"
    return changed


@pytest.mark.parametrize("case", list(INVALID))
async def test_an_invalid_save_or_setting_is_refused_by_name_and_changes_nothing(
        source: Store, case: str) -> None:
    mutation, message = INVALID[case]
    bad = changing(await export_document(source))
    mutation(bad)
    before = await snapshot(source)
    with pytest.raises(ImportFailure) as failure:
        await import_document(source, json.loads(json.dumps(bad)), FEEDS, LIMITS)
    assert message in str(failure.value), str(failure.value)
    assert str(failure.value).startswith(failure.value.where + ": ")
    assert await snapshot(source) == before


async def test_the_changing_document_does_change_the_store(source: Store) -> None:
    """The control for the refusals: without the bad entry the same import applies."""
    report = await import_document(source, changing(await export_document(source)), FEEDS, LIMITS)
    assert (report.saves_added, report.topics_added, report.channels_updated) == (1, 1, 2)


# -- an export written before layout, top, only_top and saves ------------------------------------------


async def test_an_old_export_imports_with_the_defaults(source: Store, target: Store) -> None:
    old = copy.deepcopy(await export_document(source))
    for channel in old["channels"]:
        for key in ("layout", "top", "only_top", "saves"):
            del channel[key]
    report = await import_document(target, dump_document(old), FEEDS, LIMITS)
    assert report == ImportReport(channels_created=3, topics_added=3)
    for channel in (await export_document(target))["channels"]:
        assert (channel["layout"], channel["top"], channel["only_top"], channel["saves"]) \
            == (None, 10, False, [])
    for settings in await target.list_channels():
        assert settings.digest_layout == "compact"
    assert await target.list_saves() == []
    assert (await import_document(target, old, FEEDS, LIMITS)).changed == 0


async def test_an_old_export_keeps_the_saves_a_channel_has(source: Store) -> None:
    """A file without ``saves`` adds none and removes none."""
    old = copy.deepcopy(await export_document(source))
    for channel in old["channels"]:
        del channel["saves"]
    before = await source.list_saves()
    report = await import_document(source, old, FEEDS, LIMITS)
    assert report.changed == 0
    assert await source.list_saves() == before and len(before) == 4


# -- the command line ---------------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def _config_file(tmp_path: Path, name: str) -> Path:
    path, store = tmp_path / f"{name}.toml", tmp_path / f"{name}.sqlite3"
    path.write_text(f'feeds = []\n[storage]\npath = "{store}"\n', encoding="utf-8")
    return path


async def test_paperboy_export_then_import_reports_the_saves_added(source: Store, tmp_path: Path) -> None:
    """``paperboy export > f`` from the source's file, ``paperboy import f`` into another store: the
    printed report counts the saves, and a second import adds none."""
    code, exported, err = await asyncio.to_thread(_cli, "--config", str(_config_file(tmp_path, "source")),
                                                  "export")
    assert code == 0, err
    assert json.loads(exported)["channels"][0]["saves"][0]["user_id"] == str(ALICE)
    (tmp_path / "subs.json").write_text(exported, encoding="utf-8")
    other = str(_config_file(tmp_path, "other"))
    code, out, err = await asyncio.to_thread(_cli, "--config", other, "import", str(tmp_path / "subs.json"))
    assert code == 0, err
    assert json.loads(out)["saves_added"] == 4 and json.loads(out)["changed"] == 3 + 3 + 4
    code, out, err = await asyncio.to_thread(_cli, "--config", other, "import", str(tmp_path / "subs.json"))
    assert code == 0 and json.loads(out)["saves_added"] == 0 and json.loads(out)["changed"] == 0
    bad = json.loads(exported)
    bad["channels"][1]["saves"][0]["saved_at"] = "2024-11-28 09:12"
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    code, out, err = await asyncio.to_thread(_cli, "--config", other, "import", str(tmp_path / "bad.json"))
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [err.strip()] and "channels[1].saves[0].saved_at" in err, err
