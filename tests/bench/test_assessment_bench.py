"""The assessment benchmark's generated form passes the form checks, has 60 questions of every
type, and a short run yields its figures (no timing asserted)."""

from __future__ import annotations

import random

from bench.assessment_bench import N_QUESTIONS, generate, measure


def test_the_generated_form_is_valid_and_a_short_run_measures() -> None:
    form = generate(random.Random(1))  # noqa: S311 (test data, not secrets)
    assert len(form.questions) == N_QUESTIONS
    assert {q.type for q in form.questions} == {"single_choice", "multiple_choice", "yes_no",
                                                "number", "date", "short_text"}
    figures = measure(runs=30, seed=1)
    assert figures["runs"] == 30 and 0 <= figures["median_ms"] <= figures["max_ms"]
