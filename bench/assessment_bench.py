"""Benchmark of validating and scoring one assessment of a generated 60-question form.

    python -m bench.assessment_bench [--runs N] [--seed S]

Generates a form of 60 questions (every question type, five domains, bands on the number
questions, six harder-to-help flags, a need per domain), builds it through the same schema and
rule checks as a shipped file, then times `validate_answers` + `evaluate` on random valid answer
sets: CPU time per assessment (time.process_time_ns around each one), median and p95.
Target (issue 21): under 5 ms of CPU per assessment of 60 questions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from caseshare.assessments.forms import AssessmentForm, build_form, file_problems
from caseshare.assessments.scoring import evaluate, validate_answers

TARGET_MS = 5.0
N_QUESTIONS = 60
DOMAINS = ["financial_capability", "digital_capability", "housing", "employment",
           "health_wellbeing"]
TYPES = ["single_choice", "multiple_choice", "yes_no", "number", "date", "short_text"]
FLAGS = ["mental_health", "learning_difficulty", "drug_alcohol_dependency", "homelessness",
         "domestic_abuse", "care_leaver"]


def _t(words: str) -> dict[str, str]:
    return {"en": words, "cy": f"{words} (cy)"}


def _question(i: int, rnd: random.Random) -> dict[str, Any]:
    kind = TYPES[i % len(TYPES)]
    question: dict[str, Any] = {"id": f"q{i:02d}", "type": kind, "category": "finances",
                                "required": i % 4 != 0, "text": _t(f"Question {i}?"),
                                "hint": _t(f"Hint {i}")}
    domains = rnd.sample(DOMAINS, 2)
    if kind in ("single_choice", "multiple_choice"):
        values = [f"o{j}" for j in range(6)]
        question["options"] = [{"value": v, "text": _t(f"Option {v}")} for v in values]
        question["scores"] = {d: {v: rnd.randint(0, 4) for v in values} for d in domains}
    elif kind == "yes_no":
        question["scores"] = {d: {"yes": rnd.randint(1, 4)} for d in domains}
    elif kind == "number":
        question.update(min=0, max=1000)
        question["scores"] = {d: [{"max": 0, "weight": 0}, {"max": 10, "weight": 1},
                                  {"max": 100, "weight": 2}, {"weight": 4}] for d in domains}
    return question


def generate(rnd: random.Random) -> AssessmentForm:
    questions = [_question(i, rnd) for i in range(N_QUESTIONS)]
    choice = [q for q in questions if q["type"] == "multiple_choice"]
    data = {
        "id": "generated", "version": 1, "protocol": "bench", "languages": ["en", "cy"],
        "title": _t("Generated assessment"),
        "domains": [{"code": d, "title": _t(d)} for d in DOMAINS],
        "questions": questions,
        "levels": [{"code": "intensive", "title": _t("Intensive"), "min_total": 60,
                    "min_domain": 25, "review_days": 28},
                   {"code": "light_touch", "title": _t("Light"), "min_total": 20,
                    "review_days": 56},
                   {"code": "self_serve", "title": _t("Self"), "min_total": 0,
                    "review_days": 91}],
        "flags": [{"code": code, "question": choice[i % len(choice)]["id"], "values": [f"o{i}"]}
                  for i, code in enumerate(FLAGS)],
        "needs": [{"id": f"need_{d}", "domain": d, "min_score": 10,
                   "service_line": "complex_needs",
                   "proposal": {"kind": "action", "category": "finances",
                                "title": _t(f"Help with {d}")}} for d in DOMAINS],
    }
    problems = file_problems("generated.v1.yaml", data, None)
    if problems:
        raise SystemExit("\n".join(problems))
    return build_form("generated.v1.yaml", data)


def answers(form: AssessmentForm, rnd: random.Random) -> dict[str, Any]:
    """A valid raw answer set: every required question and most optional ones answered."""
    out: dict[str, Any] = {}
    for q in form.questions:
        if not q.required and rnd.random() < 0.3:
            continue
        if q.type == "single_choice" or q.type == "yes_no":
            out[q.id] = rnd.choice(q.option_values())
        elif q.type == "multiple_choice":
            out[q.id] = rnd.sample(q.option_values(), rnd.randint(1, 4))
        elif q.type == "number":
            out[q.id] = rnd.choice([0, 3, 42.5, 500])
        elif q.type == "date":
            out[q.id] = f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        else:
            out[q.id] = "Some words the claimant said, typed by the worker."
    return out


def measure(runs: int, seed: int) -> dict[str, float]:
    rnd = random.Random(seed)
    form = generate(rnd)
    sets = [answers(form, rnd) for _ in range(200)]
    for raw in sets[:20]:                                  # warm up
        evaluate(form, validate_answers(form, raw))
    samples = []
    for i in range(runs):
        raw = sets[i % len(sets)]
        start = time.process_time_ns()
        evaluate(form, validate_answers(form, raw))
        samples.append((time.process_time_ns() - start) / 1e6)
    samples.sort()
    return {"runs": runs, "median_ms": statistics.median(samples),
            "p95_ms": samples[int(0.95 * (len(samples) - 1))], "max_ms": samples[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    figures = measure(args.runs, args.seed)
    met = "met" if figures["p95_ms"] < TARGET_MS else "NOT met"
    print(f"{N_QUESTIONS}-question assessment, validate + evaluate, CPU time over "
          f"{figures['runs']:,} runs: median {figures['median_ms']:.3f} ms, "
          f"p95 {figures['p95_ms']:.3f} ms, max {figures['max_ms']:.3f} ms "
          f"(target < {TARGET_MS:g} ms: {met})")


if __name__ == "__main__":
    main()
