"""Every reason code the decision can give has a plain-English sentence and a next step."""

from __future__ import annotations

import pytest

from caseshare.reasons import Reason
from caseshare.web.explanations import EXPLANATIONS, UNKNOWN, explain


def test_every_reason_has_an_explanation() -> None:
    missing = sorted(r.value for r in Reason if r not in EXPLANATIONS)
    assert missing == []


@pytest.mark.parametrize("reason", list(Reason))
def test_explanations_fill_in_cleanly(reason: Reason) -> None:
    e = explain(reason.value, org="Derby Recovery Partnership",
                category="drug and alcohol treatment", purpose="case management")
    for text in (e.sentence, e.next_step):
        assert "{" not in text and "}" not in text
        assert text[0].isupper() and text.endswith(".")
        assert "_" not in text  # no codes leak into the wording


def test_expired_consent_says_to_extend_it_to_the_organisation() -> None:
    e = explain("consent_expired", org="Derby Recovery Partnership", category="housing",
                purpose="case management")
    assert e.next_step.startswith("Ask the claimant to extend consent to Derby Recovery "
                                  "Partnership")


def test_an_unknown_code_still_gets_a_sentence() -> None:
    e = explain("not_a_code", org="X", category="housing", purpose="p")
    assert e.sentence == UNKNOWN.sentence.format(category="housing").capitalize()
