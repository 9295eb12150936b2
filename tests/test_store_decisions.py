"""The store's decision rules (storage.decisions), without a database: pure functions of records
and an explicit ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.clock import as_utc, iso_micros, iso_millis, iso_seconds
from storage.decisions import (
    KnownPaper,
    KnownSummary,
    dedupe_papers,
    dedupe_summaries,
    is_paper_update,
    is_summary_edit,
    may_take_lease,
    newly_published_elsewhere,
    plan_papers,
    query_is_fresh,
    summary_change,
    topic_stamp,
)
from storage.models import PaperRecord, SummaryRecord

NOW = datetime(2024, 11, 28, 8, 0, 0, tzinfo=UTC)


def paper(arxiv_id: str = "2411.00001", version: int = 1, **fields: object) -> PaperRecord:
    values: dict[str, object] = {"title": f"Title of {arxiv_id}", "authors": ["A. Author"],
                                 "abstract": "An abstract.", "categories": ["cs.LG"], **fields}
    return PaperRecord(arxiv_id, version, **values)  # type: ignore[arg-type]


def summary(guid: str = "g1", text: str = "text", title: str = "title", edited_at: str | None = None,
            votes: int | None = None, source: str = "ss") -> SummaryRecord:
    return SummaryRecord(source, guid, title, text, edited_at=edited_at, votes=votes)


# -- dedupe ----------------------------------------------------------------------------------


def test_dedupe_papers_keeps_the_highest_version_and_the_first_of_equals() -> None:
    first_v2 = paper("a", 2, announce_type="replace")
    batch = [paper("a", 1), paper("b", 1), first_v2, paper("a", 2, announce_type="cross"), paper("a", 1)]
    assert dedupe_papers(batch) == [first_v2, paper("b", 1)]


def test_dedupe_summaries_keeps_the_latest_edit_and_the_first_of_equals() -> None:
    old, new = summary(edited_at="2024-11-01T00:00:00+00:00"), summary(edited_at="2024-11-02T00:00:00+00:00")
    undated, other = summary(text="undated"), summary("g2")
    assert dedupe_summaries([old, new, old, other]) == [new, other]
    assert dedupe_summaries([undated, old]) == [old]  # a dated edit beats none
    assert dedupe_summaries([undated, summary(text="second")]) == [undated]
    # the same guid from two sources is two summaries
    assert len(dedupe_summaries([summary(source="a"), summary(source="b")])) == 2


# -- what is news ----------------------------------------------------------------------------


@pytest.mark.parametrize(("record", "known", "news"), [
    (paper(version=2), KnownPaper(1), True),  # a new version
    (paper(version=1), KnownPaper(2), False),  # an older one, seen late
    (paper(version=1), KnownPaper(1), False),  # the same again
    (paper(version=1, doi="10.1/x"), KnownPaper(1), True),  # published: a DOI
    (paper(version=1, journal_ref="J. 1"), KnownPaper(1), True),  # published: a journal ref
    (paper(version=1, doi="10.1/x"), KnownPaper(1, doi="10.1/x"), False),  # known already
    (paper(version=1, doi="10.1/y"), KnownPaper(1, doi="10.1/x"), False),  # another DOI is no news
    (paper(version=1, doi="10.1/x"), KnownPaper(2), False),  # an old version's DOI
])
def test_what_makes_a_paper_record_an_update(record: PaperRecord, known: KnownPaper, news: bool) -> None:
    assert is_paper_update(record, known) is news


def test_newly_published_elsewhere_needs_the_same_version() -> None:
    assert newly_published_elsewhere(paper(version=3, doi="10.1/x"), KnownPaper(3))
    assert not newly_published_elsewhere(paper(version=4, doi="10.1/x"), KnownPaper(3))


def test_plan_numbers_news_in_batch_order_and_leaves_the_rest_silent() -> None:
    known = {"old": KnownPaper(1), "same": KnownPaper(2), "pub": KnownPaper(1)}
    batch = [paper("new1", announce_type="new"), paper("old", 2, announce_type="replace"),
             paper("same", 2), paper("new2"), paper("pub", 1, doi="10.1/p"), paper("new1", 1)]
    plan = plan_papers(batch, known, seq=41)
    assert [(e.seq, e.paper.arxiv_id, e.event) for e in plan.new] == [(42, "new1", "new"),
                                                                      (44, "new2", "fetched")]
    assert [(e.seq, e.paper.arxiv_id, e.event) for e in plan.updated] == [(43, "old", "replace"),
                                                                          (45, "pub", "updated")]
    assert [p.arxiv_id for p in plan.unchanged] == ["same"]
    assert [p.arxiv_id for p in plan.batch] == ["new1", "old", "same", "new2", "pub"]
    assert plan.last_seq == 45


def test_plan_of_a_batch_without_news_uses_no_number() -> None:
    plan = plan_papers([paper("a")], {"a": KnownPaper(1)}, seq=7)
    assert (plan.new, plan.updated, plan.last_seq) == ([], [], 7)
    assert plan_papers([], {}, seq=7).last_seq == 7


@pytest.mark.parametrize(("record", "known", "change"), [
    (summary(), None, "new"),
    (summary(text="changed"), KnownSummary("title", "text"), "edited"),
    (summary(title="changed"), KnownSummary("title", "text"), "edited"),
    (summary(edited_at="2024-11-02"), KnownSummary("title", "text", "2024-11-01"), "edited"),
    (summary(edited_at="2024-11-01"), KnownSummary("title", "text", "2024-11-02"), "same"),  # older
    (summary(edited_at="2024-11-02"), KnownSummary("title", "text", None), "same"),  # no date to compare
    (summary(votes=5), KnownSummary("title", "text"), "votes"),
    (summary(), KnownSummary("title", "text"), "same"),
])
def test_what_a_summary_record_does(record: SummaryRecord, known: KnownSummary | None, change: str) -> None:
    assert summary_change(record, known) == change
    if known is not None:
        assert is_summary_edit(record, known) is (change == "edited")


# -- time ------------------------------------------------------------------------------------


def test_an_api_query_is_fresh_for_its_max_age() -> None:
    fetched = iso_seconds(NOW)
    assert query_is_fresh(fetched, NOW + timedelta(hours=23), 86400)
    assert not query_is_fresh(fetched, NOW + timedelta(days=1), 86400)
    assert query_is_fresh(fetched, (NOW + timedelta(hours=1)).astimezone(timezone(timedelta(hours=9))), 86400)


def test_who_may_take_a_lease() -> None:
    live, expired = iso_millis(NOW + timedelta(seconds=30)), iso_millis(NOW)
    assert may_take_lease(None, None, "me", None, NOW)  # free
    assert may_take_lease("me", live, "me", None, NOW)  # a renewal
    assert not may_take_lease("other", live, "me", None, NOW)  # another's, live
    assert may_take_lease("other", expired, "me", None, NOW)  # expires at now: free
    assert may_take_lease("other", live, "me", "other", NOW)  # its holder is known dead
    assert not may_take_lease("other", live, "me", "a third", NOW)


def test_topic_stamps_only_grow() -> None:
    assert topic_stamp(NOW, None) == NOW
    assert topic_stamp(NOW, iso_micros(NOW - timedelta(seconds=1))) == NOW
    # a frozen (or set back) clock: one microsecond after the newest stored stamp
    assert topic_stamp(NOW, iso_micros(NOW)) == NOW + timedelta(microseconds=1)
    assert topic_stamp(NOW, iso_micros(NOW + timedelta(hours=1)), position=2) == \
        NOW + timedelta(hours=1, microseconds=3)
    assert iso_micros(topic_stamp(NOW, None, 1)) == "2024-11-28T08:00:00.000001+00:00"


def test_the_store_keeps_its_text_formats_and_refuses_naive_times() -> None:
    moment = datetime(2024, 11, 28, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso_seconds(moment) == "2024-11-28T08:30:15+00:00"
    assert iso_millis(moment) == "2024-11-28T08:30:15.123+00:00"
    assert iso_micros(moment) == "2024-11-28T08:30:15.123456+00:00"
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2024, 11, 28, 8, 0))
