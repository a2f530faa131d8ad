"""rouge-n scores as promptfoo does: js-rouge's Treebank tokens and promptfoo's clipped ROUGE-1, bit for bit.

The expected tokens and scores below were produced by js-rouge 3.2.3 itself (``treeBankTokenize``, and promptfoo
0.123.1's ``rougeNScore`` on the lowercased texts) under Node 22; ``bench/parity/rouge`` compares whole runs.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.assertions.rouge import rouge_1, tree_bank_tokens

JS_ROUGE_TOKENS = [
    (
        "I can't believe it's \"not\" butter!",
        ["I", "ca", "n't", "believe", "it", "'s", "``", "not", "''", "butter", "!"],
    ),
    ("She said ''yes'' and left.", ["She", "said", "``", "yes", "''", "and", "left", "."]),
    ("``Quoted'' text, then \"more\".", ["``", "Quoted", "''", "text", ",", "then", "``", "more", "''", "."]),
    # a modifier letter after a quoted sentence is a footnote mark: the quote after it opens
    ('He stopped."ᵃ "Next" came.', ["He", "stopped.", "''", "ᵃ", "``", "Next", "''", "came", "."]),
    (
        "Cannot WANNA gimme 'Tis d'ye more'n",
        ["Can", "not", "WAN", "NA", "gim", "me", "'T", "is", "d", "'ye", "more", "'n"],
    ),
    (
        "U.S. policy, e.g. 3.14 and 5,000 at 3:30.",
        ["U.S.", "policy", ",", "e.g.", "3.14", "and", "5,000", "at", "3:30", "."],
    ),
    # JavaScript's whitespace: U+FEFF and U+00A0 split, U+001C does not (Python's str.split would)
    ("a\x1cb\ufeffc\x85d\xa0e", ["a\x1cb", "c", "d", "e"]),
    # one UTF-16 unit before a quote, JavaScript sees half of a character outside the BMP: never an opening
    ('𐄀"quoted" 😀"again"', ["𐄀", "''", "quoted", "''", "😀", "''", "again", "''"]),
    ("Ends with a period.)", ["Ends", "with", "a", "period", ".", ")"]),
    (
        "wait... what?! (really) [yes] {no} <maybe> --fine",
        [
            "wait",
            "...",
            "what",
            "?",
            "!",
            "(",
            "really",
            ")",
            "[",
            "yes",
            "]",
            "{",
            "no",
            "}",
            "<",
            "maybe",
            ">",
            "--",
            "fine",
        ],
    ),
    ("  \n ", []),
]

PROMPTFOO_SCORES = [
    ("The cat sat on the mat.", "the cat sat on the mat", 0.923076923076923),
    ("the the the", "the the the the the the", 0.6666666666666666),
    (
        "Set one measurable goal by the end of the quarter.",
        "Answer to: Coach: sales. Set one measurable goal by the end of the quarter.",
        0.7857142857142858,
    ),
    ('I can\'t "plan"', "I cannot plan", 0.4),
    ("", "anything", 0.0),
    ("ΟΔΟΣ İstanbul", "οδος i̇stanbul", 1.0),
    ("Nothing shared here", "completely different words", 0.0),
    ("Goals: SMART, measurable; aligned!", "smart measurable aligned goals", 0.6666666666666666),
]


@pytest.mark.parametrize(("text", "tokens"), JS_ROUGE_TOKENS)
def test_tokens_are_js_rouges(text, tokens):
    assert tree_bank_tokens(text) == tokens


@pytest.mark.parametrize(("candidate", "reference", "score"), PROMPTFOO_SCORES)
def test_scores_are_promptfoos_to_the_last_bit(candidate, reference, score):
    assert rouge_1(candidate, reference) == score


TEXT = st.text(alphabet=st.sampled_from(list("abc AB'\".,!?`()ᵃ1😀-:")), max_size=30)


@given(TEXT, TEXT)
def test_a_score_is_a_symmetric_fraction(candidate, reference):
    score = rouge_1(candidate, reference)
    assert 0.0 <= score <= 1.0
    assert score == rouge_1(reference, candidate)


@given(TEXT)
def test_a_text_matches_itself_whatever_it_repeats(text):
    assert rouge_1(text, text) == (1.0 if tree_bank_tokens(text.lower()) else 0.0)
