"""The one topic parser: every kind, canonical forms, errors with suggestions, round trips."""

from __future__ import annotations

import dataclasses
import random

import pytest

from bot.core.taxonomy import ARCHIVES, CATEGORIES, canonical
from bot.core.topics import MAX_TOPIC_LENGTH, Topic, TopicError, TopicKind, parse_topic, parse_topics

FEEDS = ("shortscience", "paperswithcode")


def _error(text: str, feeds: tuple[str, ...] = FEEDS) -> TopicError:
    with pytest.raises(TopicError) as caught:
        parse_topic(text, feeds)
    return caught.value


def _round_trips(topic: Topic, feeds: tuple[str, ...] = FEEDS) -> bool:
    again = parse_topic(str(topic), feeds)
    return again == topic and str(again) == str(topic) and again.kind is topic.kind


# --- arXiv categories and archives --------------------------------------------------------------

@pytest.mark.parametrize("text", ["cs.LG", "stat.ML", "math.CA", "astro-ph.CO",
                                  "cond-mat.stat-mech", "physics.optics", "q-bio.NC", "eess.SP",
                                  "econ.EM", "q-fin.ST", "nlin.CD"])
def test_category(text: str) -> None:
    topic = parse_topic(text)
    assert topic == Topic(TopicKind.CATEGORY, text, text)
    assert str(topic) == topic.value == topic.key == text


@pytest.mark.parametrize(("text", "expected"), [
    ("cs.lg", "cs.LG"), ("CS.LG", "cs.LG"), ("Cs.Lg", "cs.LG"), ("  stat.ml\t", "stat.ML"),
    ("COND-MAT.STAT-MECH", "cond-mat.stat-mech"), ("Physics.Optics", "physics.optics"),
])
def test_category_in_another_case_is_normalised(text: str, expected: str) -> None:
    topic = parse_topic(text)
    assert topic.kind is TopicKind.CATEGORY
    assert str(topic) == topic.key == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("math.MP", "math-ph"), ("math.IT", "cs.IT"), ("stat.TH", "math.ST"), ("q-fin.EC", "econ.GN"),
    ("cs.SY", "eess.SY"), ("cs.NA", "math.NA"), ("cs.na", "math.NA"),
])
def test_alias_resolves_to_canonical(text: str, expected: str) -> None:
    topic = parse_topic(text)
    assert topic.kind is TopicKind.CATEGORY
    assert str(topic) == topic.key == expected
    assert topic == parse_topic(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("cs", "cs"), ("math", "math"), ("astro-ph", "astro-ph"), ("cond-mat", "cond-mat"),
    ("CS", "cs"), ("Physics", "physics"), ("cs.*", "cs"), ("Q-BIO.*", "q-bio"),
])
def test_archive(text: str, expected: str) -> None:
    topic = parse_topic(text)
    assert topic == Topic(TopicKind.ARCHIVE, expected, expected)
    assert str(topic) == expected


@pytest.mark.parametrize("text", ["hep-th", "gr-qc", "quant-ph", "math-ph", "nucl-th", "hep-lat"])
def test_single_category_archive_is_a_category(text: str) -> None:
    topic = parse_topic(text)
    assert topic.kind is TopicKind.CATEGORY
    assert str(topic) == topic.key == text
    assert parse_topic(f"{text}.*") == topic


def test_every_taxonomy_id_parses_to_its_canonical_form() -> None:
    for ident in (*CATEGORIES, *ARCHIVES):
        topic = parse_topic(ident)
        assert str(topic) == canonical(ident)
        assert _round_trips(topic)
        assert parse_topic(ident.upper()) == topic


def test_label_names_arxiv_topics() -> None:
    assert parse_topic("cs.LG").label == "cs.LG (Machine Learning)"
    assert parse_topic("cs").label == "cs (Computer Science)"
    assert parse_topic("author:Sergey Levine").label == "author:Sergey Levine"


# --- arXiv look-alikes are errors with suggestions ----------------------------------------------

@pytest.mark.parametrize(("text", "suggestions"), [
    ("cs.LF", ("cs.LG",)),
    ("cs.ML", ("stat.ML",)),
    ("sc.LG", ("cs.LG",)),
    ("stats.ML", ("stat.ML",)),
    ("hep.th", ("hep-th",)),
    ("qunat-ph", ("quant-ph",)),
    ("hep-tx", ("hep-ex", "hep-th")),
    ("bio-ph", ("physics.bio-ph",)),
    ("stat-mech", ("cond-mat.stat-mech",)),
    ("cs-LG", ("cs.LG",)),
    ("cond-mat.stat", ("cond-mat.stat-mech",)),
    ("astro-ph.gal", ("astro-ph.GA",)),
])
def test_unknown_arxiv_id_suggests_the_nearest(text: str, suggestions: tuple[str, ...]) -> None:
    error = _error(text)
    assert error.suggestions == suggestions
    assert f"{text!r}" in str(error)
    assert "did you mean " + " or ".join(suggestions) + "?" in str(error)
    assert error.text == text


def test_typo_message_reads_well() -> None:
    assert str(_error("cs.LF")) == "unknown arXiv category 'cs.LF'; did you mean cs.LG?"


def test_unknown_subject_class_of_a_known_archive_lists_its_categories() -> None:
    message = str(_error("cs.XYZ"))
    assert "unknown arXiv category 'cs.XYZ'" in message
    assert "cs.AI" in message and "cs.LG" in message and "stat.ML" not in message
    assert "keyword:" not in message  # cs is plainly an archive: no keyword hint


def test_single_category_archive_has_no_subcategories() -> None:
    error = _error("hep-th.XX")
    assert "hep-th has no subcategories" in str(error)
    assert error.suggestions == ("hep-th",)


def test_unknown_archive_lists_archives_and_the_keyword_escape() -> None:
    message = str(_error("xx.YY"))
    assert "astro-ph" in message and "quant-ph" in message
    assert "https://arxiv.org/category_taxonomy" in message
    assert "keyword:xx.YY" in message


def test_look_alike_can_be_followed_as_a_keyword() -> None:
    assert "keyword:q-bit" in str(_error("q-bit"))
    topic = parse_topic("keyword:q-bit")
    assert topic.kind is TopicKind.KEYWORD
    assert str(topic) == "keyword:q-bit"
    assert _round_trips(topic)


@pytest.mark.parametrize("text", ["node.js", "x-ray", "e.g", "U.S.", "asp.net", "q-learning",
                                  "self-play", "ResNet-50", "C++", "math-heavy", "i.e. something",
                                  "state-of-the-art", "math physics", "cs.LG, machine learning"])
def test_ordinary_words_stay_keywords(text: str) -> None:
    topic = parse_topic(text)
    assert topic.kind is TopicKind.KEYWORD
    assert str(topic) == text
    assert _round_trips(topic)


@pytest.mark.parametrize("text", ["cs.LG, stat.ML", "cs.LG stat.ML", "cs; math", "cs.lg,stat.ml"])
def test_a_list_where_one_topic_goes_is_an_error(text: str) -> None:
    error = _error(text)
    assert "one at a time" in str(error)
    assert error.suggestions[:2] in (("cs.LG", "stat.ML"), ("cs", "math"))
    assert parse_topic(f"keyword:{text}").kind is TopicKind.KEYWORD


# --- authors ------------------------------------------------------------------------------------

def test_author() -> None:
    topic = parse_topic("author:Sergey Levine")
    assert topic == Topic(TopicKind.AUTHOR, "author:Sergey Levine", "sergey levine")
    assert str(topic) == "author:Sergey Levine"


@pytest.mark.parametrize("text", ["author:sergey levine", "AUTHOR:Sergey Levine",
                                  "author:  Sergey   Levine ", "Author : Sergey Levine",
                                  "author:SERGEY LEVINE"])
def test_author_spellings_are_one_topic(text: str) -> None:
    assert parse_topic(text) == parse_topic("author:Sergey Levine")


@pytest.mark.parametrize(("text", "value", "key"), [
    ("author:Andr\\'e Martins", "author:André Martins", "andre martins"),
    ("author:Andr{\\'e} Martins", "author:André Martins", "andre martins"),
    ('author:{\\"O}zg{\\"u}r', "author:Özgür", "ozgur"),
    ("author:Paul Erd\\H{o}s", "author:Paul Erdős", "paul erdos"),
    ("author:André Martins", "author:André Martins", "andre martins"),
    ("author:Jean-Pierre Serre", "author:Jean-Pierre Serre", "jean pierre serre"),
    ("author:{Le}Cun", "author:LeCun", "lecun"),
])
def test_author_tex_and_accents(text: str, value: str, key: str) -> None:
    topic = parse_topic(text)
    assert (str(topic), topic.key) == (value, key)
    assert _round_trips(topic)


def test_author_accented_and_plain_match() -> None:
    assert parse_topic("author:Andr\\'e Martins") == parse_topic("author:andre martins")


@pytest.mark.parametrize("text", ["author:", "author:   ", "author:...", "author:{}"])
def test_author_needs_a_name(text: str) -> None:
    assert "author:Sergey Levine" in str(_error(text))


def test_author_leftover_tex_is_dropped_so_text_round_trips() -> None:
    topic = parse_topic("author:Smith$")
    assert str(topic) == "author:Smith"
    assert _round_trips(topic)


# --- venues -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "key"), [
    ("venue:nips", "nips"), ("venue:NIPS", "nips"), ("venue:conf/nips", "conf/nips"),
    ("venue: iclr", "iclr"), ("Venue:ICML2023", "icml2023"),
    ("venue:journals/corr", "journals/corr"),
])
def test_venue(text: str, key: str) -> None:
    topic = parse_topic(text)
    assert topic == Topic(TopicKind.VENUE, f"venue:{key}", key)
    assert str(topic) == f"venue:{key}"
    assert _round_trips(topic)


@pytest.mark.parametrize("text", ["venue:", "venue:   "])
def test_venue_needs_a_venue(text: str) -> None:
    assert "venue:nips" in str(_error(text))


@pytest.mark.parametrize("text", ["venue:NeurIPS 2023", "venue:/nips", "venue:nips!"])
def test_venue_is_one_word(text: str) -> None:
    assert "one word" in str(_error(text))


# --- feeds --------------------------------------------------------------------------------------

def test_feed() -> None:
    topic = parse_topic("feed:shortscience", FEEDS)
    assert topic == Topic(TopicKind.FEED, "feed:shortscience", "shortscience")
    assert _round_trips(topic)


def test_feed_in_another_case() -> None:
    assert str(parse_topic("Feed: ShortScience", FEEDS)) == "feed:shortscience"


def test_unknown_feed_lists_the_configured_ones() -> None:
    error = _error("feed:nope")
    assert "unknown feed 'nope'" in str(error)
    assert "feed:paperswithcode, feed:shortscience" in str(error)
    assert error.suggestions == ()


def test_mistyped_feed_is_suggested() -> None:
    error = _error("feed:shortsci")
    assert "did you mean feed:shortscience?" in str(error)
    assert error.suggestions == ("feed:shortscience",)


def test_feed_needs_a_name() -> None:
    assert "feed: needs a feed name" in str(_error("feed:"))


def test_feed_without_configured_feeds() -> None:
    assert "no feeds are configured" in str(_error("feed:shortscience", ()))


def test_feed_accepts_any_collection() -> None:
    assert parse_topic("feed:a", {"a", "b"}).key == "a"
    assert parse_topic("feed:b", frozenset({"b"})).key == "b"


# --- keywords -----------------------------------------------------------------------------------

def test_keyword() -> None:
    topic = parse_topic("  Diffusion   models\n for\tvideo ")
    phrase = "Diffusion models for video"
    assert topic == Topic(TopicKind.KEYWORD, phrase, phrase.lower())
    assert str(topic) == "Diffusion models for video"


def test_keyword_case_is_one_topic() -> None:
    assert parse_topic("GAN") == parse_topic("gan")
    assert str(parse_topic("GAN")) == "GAN"


@pytest.mark.parametrize(("text", "value", "key"), [
    ("keyword:physics", "keyword:physics", "physics"),
    ("keyword:cs.LG", "keyword:cs.LG", "cs.lg"),
    ("keyword:author:someone", "keyword:author:someone", "author:someone"),
    ("keyword:  transformers", "transformers", "transformers"),  # prefix only when needed
    ("Keyword:GAN", "GAN", "gan"),
])
def test_keyword_prefix(text: str, value: str, key: str) -> None:
    topic = parse_topic(text)
    assert topic.kind is TopicKind.KEYWORD
    assert (str(topic), topic.key) == (value, key)
    assert _round_trips(topic)


def test_keyword_length_limit() -> None:
    assert parse_topic("a" * 100).key == "a" * 100
    assert parse_topic("a" + " " * 500 + "b").key == "a b"  # counted after collapsing
    assert "at most 100 characters (this one has 101)" in str(_error("a" * 101))


def test_prefixed_keyword_must_fit_as_a_topic() -> None:
    assert parse_topic("keyword:physics " + "a" * 84).key == "physics " + "a" * 84  # bare: 92
    assert "at most 100" in str(_error("keyword:author:" + "a" * 90))  # needs its prefix: 105


@pytest.mark.parametrize("text", ["!!!", "...", "-", "keyword:???", "___"])
def test_keyword_needs_a_letter_or_digit(text: str) -> None:
    assert "at least one letter or digit" in str(_error(text))


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "keyword:", "keyword:   "])
def test_empty_input(text: str) -> None:
    message = str(_error(text))
    assert "empty" in message or "needs a phrase" in message
    assert "cs.LG" in message


def test_huge_input() -> None:
    assert "at most 100 characters" in str(_error("x" * 5000))


def test_control_characters() -> None:
    assert "control characters" in str(_error("deep\x00learning"))


def test_non_text_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_topic(None)  # type: ignore[arg-type]


# --- the Topic value ----------------------------------------------------------------------------

def test_topic_is_frozen_and_hashable() -> None:
    topic = parse_topic("cs.LG")
    with pytest.raises(dataclasses.FrozenInstanceError):
        topic.key = "cs.AI"  # type: ignore[misc]
    assert len({parse_topic("cs.LG"), parse_topic("cs.lg"), parse_topic("cs.AI")}) == 2


def test_equality_is_kind_and_key() -> None:
    assert parse_topic("author:Andr\\'e") == parse_topic("author:ANDRE")
    assert parse_topic("keyword:physics") != parse_topic("physics")  # keyword vs archive
    assert Topic(TopicKind.KEYWORD, "X", "x") == Topic(TopicKind.KEYWORD, "x", "x")


def test_kinds_are_strings() -> None:
    assert [kind.value for kind in TopicKind] == [
        "category", "archive", "author", "venue", "feed", "keyword"]
    assert TopicKind("author") is TopicKind.AUTHOR
    assert parse_topic("cs").kind == "archive"


def test_topic_error_is_a_value_error() -> None:
    assert issubclass(TopicError, ValueError)
    error = _error("cs.LF")
    assert isinstance(error, ValueError)
    assert error.text == "cs.LF"


def test_every_topic_text_fits_a_discord_choice() -> None:
    for text in ["author:" + "b" * 93, "venue:" + "v" * 94, "x" * 100]:
        assert len(str(parse_topic(text))) <= MAX_TOPIC_LENGTH
    assert "at most 100" in str(_error("author:" + "b" * 94))


# --- several topics -----------------------------------------------------------------------------

def test_parse_topics_keeps_order_and_drops_repeats() -> None:
    topics = parse_topics(["cs.LG", "author:A B", "cs.lg", "author:a  b", "stat.TH", "math.ST"])
    assert [str(t) for t in topics] == ["cs.LG", "author:A B", "math.ST"]


def test_parse_topics_reports_every_error() -> None:
    with pytest.raises(TopicError) as caught:
        parse_topics(["cs.LG", "cs.LF", "feed:zz", "stats.ML"], FEEDS)
    message = str(caught.value)
    assert message.startswith("3 topics are invalid:")
    assert "cs.LF" in message and "stats.ML" in message
    assert "\n- feed:zz: unknown feed 'zz'" in message
    assert caught.value.suggestions == ("cs.LG", "stat.ML")


def test_parse_topics_single_error_is_passed_through() -> None:
    with pytest.raises(TopicError, match=r"^unknown arXiv category 'cs.LF'; did you mean cs.LG\?$"):
        parse_topics(["cs.LF", "cs.LG"])


def test_parse_topics_wants_a_list() -> None:
    with pytest.raises(TypeError):
        parse_topics("cs.LG")
    assert parse_topics([]) == []


# --- round trips --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "cs.LG", "cs.lg", "math.MP", "cs", "cs.*", "hep-th", "author:Andr\\'e  Martins",
    "venue:NIPS", "feed:ShortScience", "keyword:physics", "keyword:cs.LF", "Deep  RL",
    "keyword: feed:x", "author:{\\\"O}zg{\\\"u}r",
])
def test_round_trip(text: str) -> None:
    assert _round_trips(parse_topic(text, FEEDS))


def test_round_trip_of_random_text() -> None:
    rng = random.Random(20240601)
    alphabet = "abcXYZ .-:,;\\{}'\"$_/*+éü\t0123456789"
    prefixes = ["", "author:", "venue:", "feed:", "keyword:", "cs.", "hep-", "Author: "]
    parsed = 0
    for _ in range(3000):
        text = rng.choice(prefixes) + "".join(rng.choice(alphabet)
                                              for _ in range(rng.randint(0, 12)))
        try:
            topic = parse_topic(text, FEEDS)
        except TopicError:
            continue
        parsed += 1
        assert _round_trips(topic), text
        assert len(str(topic)) <= MAX_TOPIC_LENGTH
    assert parsed > 1000
