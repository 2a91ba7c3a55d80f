"""The harder-to-help groups are listed twice: the form rules (which flag codes a form may
raise) and the result page's plain words. They must name the same groups."""

from __future__ import annotations

from caseshare.assessments.form_rules import HARDER_TO_HELP
from caseshare.web.assessment_results import FLAG_WORDS


def test_every_harder_to_help_group_has_words_and_no_other() -> None:
    assert set(FLAG_WORDS) == set(HARDER_TO_HELP)
    assert len(HARDER_TO_HELP) == len(set(HARDER_TO_HELP))
