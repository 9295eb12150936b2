"""Ranking by saves (bot/core/ranking.py): the classifier finds a channel's subject, the cold
start orders by specific topics, popularity and recency, and every candidate comes back once."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

import numpy as np
import pytest

from bot.core.ranking import (
    MIN_SAVES,
    TITLE_SHOWN,
    Candidate,
    Classifier,
    Ranked,
    TextSpace,
    describe,
    fit_classifier,
    paper_text,
    rank,
)

# Four subjects with their own words, six papers each: (id, title, abstract).
SUBJECTS: dict[str, list[tuple[str, str]]] = {
    "quantum": [
        ("Error correction thresholds for surface code qubits",
         "We estimate the surface code threshold under circuit-level noise on superconducting qubits."),
        ("Entanglement distillation over noisy quantum channels",
         "Protocols distill Bell pairs from noisy entangled qubits shared over a quantum channel."),
        ("Variational quantum eigensolvers on trapped ion qubits",
         "A variational eigensolver prepares molecular ground states on a trapped ion quantum processor."),
        ("Decoherence of superconducting transmon qubits",
         "We measure decoherence and dephasing times of transmon qubits coupled to a microwave resonator."),
        ("Quantum error mitigation for shallow circuits",
         "Zero-noise extrapolation mitigates gate errors of shallow quantum circuits on noisy qubits."),
        ("Fault-tolerant logical qubits with lattice surgery",
         "Lattice surgery on surface code patches performs fault-tolerant gates between logical qubits."),
    ],
    "galaxies": [
        ("Star formation quenching in massive elliptical galaxies",
         "Elliptical galaxies show star formation quenched by feedback from their central black hole."),
        ("Dark matter halos of dwarf galaxies",
         "Rotation curves of dwarf galaxies constrain the density profiles of their dark matter halos."),
        ("Gas accretion onto spiral galaxies from the cosmic web",
         "Simulations follow cold gas streams from cosmic web filaments feeding spiral galaxy discs."),
        ("Stellar bars and spiral arms in disc galaxies",
         "We measure the pattern speed of stellar bars and spiral arms in nearby disc galaxies."),
        ("Galaxy mergers and starburst luminosity",
         "Interacting galaxies in mergers trigger starbursts that raise their infrared luminosity."),
        ("Metallicity gradients of galactic stellar discs",
         "Stellar spectra trace radial metallicity gradients across the discs of nearby spiral galaxies."),
    ],
    "language": [
        ("Instruction tuning of large language models",
         "Instruction tuning aligns large language models to follow prompts written by annotators."),
        ("Machine translation for low-resource languages",
         "A multilingual translation model improves translation quality for low-resource languages."),
        ("Hallucination detection in language model summaries",
         "We detect hallucinated facts in abstractive summaries produced by large language models."),
        ("Tokenization and vocabulary size for multilingual text",
         "Subword tokenization vocabulary size changes how multilingual language models segment text."),
        ("Retrieval-augmented generation for open-domain questions",
         "A retriever supplies passages so the language model answers open-domain questions with evidence."),
        ("Chain-of-thought prompting for arithmetic reasoning",
         "Prompting language models with worked reasoning steps improves arithmetic word problem accuracy."),
    ],
    "fluids": [
        ("Turbulent boundary layers over rough walls",
         "Direct numerical simulation resolves turbulent boundary layers and drag over rough walls."),
        ("Vortex shedding behind an oscillating cylinder",
         "Wake vortex shedding frequency locks on to the oscillation of a cylinder in cross flow."),
        ("Rayleigh-Benard convection at high Rayleigh number",
         "Heat transport in turbulent Rayleigh-Benard convection scales with the Rayleigh number."),
        ("Droplet breakup in viscous shear flow",
         "Viscous droplets stretch and break up in shear flow above a critical capillary number."),
        ("Drag reduction by polymer additives in pipe flow",
         "Dilute polymer additives reduce turbulent drag in pipe flow by damping near-wall vortices."),
        ("Capillary waves on thin liquid films",
         "Capillary waves on liquid films flowing down a wall break up as the film flow turns turbulent."),
    ],
}
PAPERS = [(f"{subject[:4]}.{n}", title, abstract)
          for subject, papers in SUBJECTS.items() for n, (title, abstract) in enumerate(papers)]
BY_ID = {pid: (title, abstract) for pid, title, abstract in PAPERS}


def subject_of(pid: str) -> str:
    return next(s for s in SUBJECTS if pid.startswith(s[:4]))


def space_of(papers: list[tuple[str, str, str]] = PAPERS) -> TextSpace:
    return TextSpace.fit([p for p, _, _ in papers], [paper_text(t, a) for _, t, a in papers])


def classifier_of(space: TextSpace, ids: list[str],
                  texts: dict[str, tuple[str, str]] = BY_ID) -> Classifier | None:
    return fit_classifier(space, ids, [texts[p][0] for p in ids], [paper_text(*texts[p]) for p in ids])


def candidates(ids: list[str], newest_first: AbstractSet[str] = frozenset()) -> list[Candidate]:
    """Candidates in the given order; those in ``newest_first`` are a day newer than the rest."""
    return [Candidate(p, *BY_ID[p], day=20_001 if p in newest_first else 20_000) for p in ids]


def interleaved(skip: set[str]) -> list[str]:
    """Every paper not in ``skip``, the subjects taking turns (so feed order is no answer)."""
    columns = [[f"{s[:4]}.{n}" for n in range(len(papers))] for s, papers in SUBJECTS.items()]
    return [pid for row in zip(*columns, strict=True) for pid in row if pid not in skip]


# --- a trained channel ----------------------------------------------------------------------------

@pytest.mark.parametrize("subject", list(SUBJECTS))
def test_saves_about_one_subject_put_that_subject_first(subject: str) -> None:
    saved = [f"{subject[:4]}.{n}" for n in range(3)]
    space = space_of()
    classifier = classifier_of(space, saved)
    assert classifier is not None
    others = {p for p, _, _ in PAPERS if subject_of(p) != subject}
    ranked = rank(candidates(interleaved(set(saved)), newest_first=others), space, classifier)
    top = ranked[:3]  # the subject's three unsaved papers, though every other paper is newer
    assert [subject_of(r.arxiv_id) for r in top] == [subject] * 3, ranked
    saved_titles = {BY_ID[p][0] for p in saved}
    for r in top:
        assert r.reasons and r.reasons[0].startswith("like *") and r.reasons[0].endswith("* (saved here)")
        assert r.reasons[0][len("like *"):-len("* (saved here)")] in saved_titles
    assert top[-1].score > ranked[3].score


def test_the_reason_names_the_saved_paper_most_like_the_candidate() -> None:
    saved = ["quan.0", "gala.0", "lang.0"]
    space = space_of()
    ranked = rank(candidates(["quan.5", "gala.1", "lang.4"]), space, classifier_of(space, saved))
    reasons = {r.arxiv_id: r.reasons[0] for r in ranked}
    assert reasons == {"quan.5": f"like *{BY_ID['quan.0'][0]}* (saved here)",
                       "gala.1": f"like *{BY_ID['gala.0'][0]}* (saved here)",
                       "lang.4": f"like *{BY_ID['lang.0'][0]}* (saved here)"}


def test_a_long_saved_title_is_shortened_in_the_reason() -> None:
    long_title = "Surface code qubits " + "and more surface code qubits " * 5
    texts = {**BY_ID, "quan.0": (long_title, BY_ID["quan.0"][1])}
    space = space_of()
    ranked = rank(candidates(["quan.5"]), space, classifier_of(space, ["quan.0", "quan.1", "quan.2"], texts))
    shown = ranked[0].reasons[0][len("like *"):-len("* (saved here)")]
    assert len(shown) == TITLE_SHOWN and shown.endswith("…") and long_title.startswith(shown[:-1])


def test_topics_and_popularity_keep_their_reasons_under_a_classifier() -> None:
    space = space_of()
    classifier = classifier_of(space, ["flui.0", "flui.1", "flui.2"])
    ranked = rank([Candidate("gala.3", *BY_ID["gala.3"], specific=("author:Vera Rubin",), upvotes=1)],
                  space, classifier)
    assert "matched: author:Vera Rubin" in ranked[0].reasons
    assert "1 upvote on Hugging Face" in ranked[0].reasons


def test_saved_papers_missing_from_the_corpus_are_read_from_their_text() -> None:
    saved = ["quan.0", "quan.1", "quan.2"]
    space = space_of([p for p in PAPERS if p[0] not in saved])  # saved long ago: pruned from the corpus
    classifier = classifier_of(space, saved)
    assert classifier is not None and classifier.saved_vectors.nnz > 0
    ranked = rank(candidates(interleaved(set(saved))), space, classifier)
    assert {subject_of(r.arxiv_id) for r in ranked[:3]} == {"quantum"}
    assert ranked[0].reasons[0].startswith("like *")


def test_saved_papers_with_no_known_words_do_not_crash() -> None:
    space = space_of([p for p in PAPERS if subject_of(p[0]) != "fluids"])  # no fluids words at all
    classifier = classifier_of(space, ["flui.0", "flui.1", "flui.2"])
    assert classifier is not None and classifier.saved_vectors.nnz == 0
    ranked = rank(candidates(interleaved(set())), space, classifier)
    assert len(ranked) == len(PAPERS) and not any(r.reasons for r in ranked)  # nothing is "like" them


# --- the cold start -------------------------------------------------------------------------------

def test_fewer_than_min_saves_means_no_classifier() -> None:
    space = space_of()
    assert classifier_of(space, [f"quan.{n}" for n in range(MIN_SAVES - 1)]) is None
    assert classifier_of(space, [f"quan.{n}" for n in range(MIN_SAVES)]) is not None


def test_cold_start_orders_topics_then_popularity_then_recency_and_keeps_ties() -> None:
    text = ("A title", "An abstract.")
    given = [
        Candidate("old-plain", *text, day=19_990),
        Candidate("new-plain-1", *text, day=20_000),
        Candidate("unknown-day", *text, day=0),
        Candidate("topic", *text, specific=("keyword:qubits",), day=19_990),
        Candidate("new-plain-2", *text, day=20_000),
        Candidate("popular", *text, upvotes=10, votes=2, day=19_990),
    ]
    ranked = rank(given)
    assert [r.arxiv_id for r in ranked] == ["topic", "popular", "new-plain-1", "new-plain-2",
                                            "old-plain", "unknown-day"]
    reasons = {r.arxiv_id: r.reasons for r in ranked}
    assert reasons["topic"] == ("matched: keyword:qubits",)
    assert reasons["popular"] == ("10 upvotes on Hugging Face", "2 votes on ShortScience")
    assert reasons["new-plain-1"] == ()


def test_without_a_classifier_a_space_changes_nothing() -> None:
    given = candidates(interleaved(set()), newest_first={"lang.2", "gala.4"})
    assert rank(given, space_of(), None) == rank(given)
    assert [r.arxiv_id for r in rank(given)[:2]] == ["lang.2", "gala.4"]  # the newest, in their order


def test_equal_candidates_keep_the_digest_order() -> None:
    given = [Candidate(f"p{n}", "Same", "Same abstract.") for n in range(30)]
    assert [r.arxiv_id for r in rank(given)] == [c.arxiv_id for c in given]


# --- every candidate once, edge cases, determinism ------------------------------------------------

@pytest.mark.parametrize("trained", [False, True])
def test_every_candidate_comes_back_exactly_once(trained: bool) -> None:
    space = space_of()
    classifier = classifier_of(space, ["gala.0", "gala.2", "gala.4"]) if trained else None
    given = [*candidates(interleaved(set())), Candidate("fresh", "Not in the corpus", "Vortex wakes.")]
    ranked = rank(given, space, classifier)
    assert sorted(r.arxiv_id for r in ranked) == sorted(c.arxiv_id for c in given)
    assert all(isinstance(r, Ranked) for r in ranked)
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_an_empty_corpus_ranks_by_the_cold_start() -> None:
    space = TextSpace.fit([], [])
    assert classifier_of(space, ["quan.0", "quan.1", "quan.2"]) is None
    given = candidates(["quan.3", "gala.0"], newest_first={"gala.0"})
    assert [r.arxiv_id for r in rank(given, space, None)] == ["gala.0", "quan.3"]
    assert space.nearest(space.vectors_of(["quan.3"], [paper_text(*BY_ID["quan.3"])]), 3) == []


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_a_tiny_corpus_still_trains(size: int) -> None:
    """A new store has few papers: pruning common terms must not leave no terms at all."""
    papers = [p for p in PAPERS if subject_of(p[0]) == "quantum"][:size]
    space = space_of(papers)
    assert space.matrix.shape[0] == size and space.matrix.shape[1] > 0
    classifier = classifier_of(space, ["gala.0", "gala.1", "gala.2"])
    assert classifier is not None
    assert len(rank(candidates(["quan.4", "gala.3"]), space, classifier)) == 2


def test_a_corpus_without_usable_words_is_an_empty_space() -> None:
    space = TextSpace.fit(["a", "b"], ["the of and", ""])
    assert space.ids == [] and space.matrix.shape[0] == 0
    assert classifier_of(space, ["quan.0", "quan.1", "quan.2"]) is None
    assert space.vectors_of(["x"], ["qubits"]).shape[0] == 1


def test_no_candidates_no_ranking() -> None:
    space = space_of()
    assert rank([]) == []
    assert rank([], space, classifier_of(space, ["quan.0", "quan.1", "quan.2"])) == []


def test_ranking_is_deterministic_across_fits() -> None:
    saved = ["lang.0", "lang.3", "quan.1", "flui.2"]
    given = candidates(interleaved(set(saved)), newest_first={"gala.1"})
    first, second = space_of(), space_of()
    once = rank(given, first, classifier_of(first, saved))
    assert once == rank(given, second, classifier_of(second, saved))


# --- the vectors ----------------------------------------------------------------------------------

def test_vectors_of_mixes_corpus_rows_and_new_texts_in_order() -> None:
    space = space_of()
    ids = ["new.1", "gala.2", "new.2", "quan.0", "lang.5"]
    texts = [paper_text("Qubits", "Noisy qubits."), "ignored: the corpus row is used",
             paper_text("Galaxies", "Dwarf galaxies."), "ignored", "ignored"]
    got = space.vectors_of(ids, texts).toarray()
    for row, (pid, text) in enumerate(zip(ids, texts, strict=True)):
        want = space.matrix[space.ids.index(pid)] if pid in space.ids else space.vectors([text])
        assert np.allclose(got[row], want.toarray()[0])
    assert space.vectors_of([], []).shape == (0, space.matrix.shape[1])


def test_nearest_finds_the_same_subject_and_skips_the_paper_itself() -> None:
    space = space_of()
    vector = space.vectors_of(["flui.4"], [paper_text(*BY_ID["flui.4"])])
    nearest = space.nearest(vector, 2, exclude=["flui.4"])
    assert len(nearest) == 2 and "flui.4" not in {p for p, _ in nearest}
    assert {subject_of(p) for p, _ in nearest} == {"fluids"}
    assert nearest[0][1] >= nearest[1][1] > 0


def test_describe_is_plain_data() -> None:
    assert describe(Ranked("2411.00001", 1.5, ("like *X* (saved here)",))) == {
        "arxiv_id": "2411.00001", "score": 1.5, "reasons": ["like *X* (saved here)"]}
