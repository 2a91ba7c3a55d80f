"""A partnership's funding agreement (partnerships/<protocol-id>/funding.yaml) and what the
recorded work earns under it.

The LSSF trials funded local support in three elements: a guaranteed element (a fixed sum per
funding period, keeping the core services running), an activity element (a price per unit of
recorded work, absorbing the risk that demand is far above or below the forecast) and an outcome
element (a payment per outcome achieved). An outcome pays nothing until its count reaches the
minimum threshold; from there every outcome up to the target is paid, and outcomes beyond the
target earn nothing more (so the maximum is payment x target). Thresholds and targets are per
funding period, like the guaranteed element.

Money is whole pence (integers) throughout: no rounding ever creeps into a total. The loader is
pure (a file in, a value out, a PolicyFileError naming the file and the field otherwise); the
computation takes counts and returns values, so both are unit tested without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseshare.errors import PolicyFileError
from caseshare.policy.loader import read_yaml

FILE_NAME = "funding.yaml"
# The units of activity the recorded work can be counted in (caseshare/mi/activity.py).
ACTIVITY_CODES = (
    "referral_accepted",  # a referral the receiving organisation accepted
    "plan_entry_completed",  # a plan entry marked done (optionally of one service line)
    "money_plan_agreed",  # a money action plan recorded
    "assessment_completed",  # a needs assessment completed
)


@dataclass(frozen=True)
class ActivityPrice:
    code: str
    label: str
    price_pence: int
    service_line: str | None = None  # plan entries of this service line only (None: any)

    @property
    def key(self) -> str:
        """The count this price applies to: the code, or `code:service_line`."""
        return f"{self.code}:{self.service_line}" if self.service_line else self.code


@dataclass(frozen=True)
class OutcomePayment:
    code: str
    label: str
    payment_pence: int
    threshold: int  # below this count nothing is paid
    target: int  # above this count nothing more is paid


@dataclass(frozen=True)
class FundingAgreement:
    protocol: str
    title: str
    period_months: int
    guaranteed_pence: int  # per funding period
    activities: tuple[ActivityPrice, ...]
    outcomes: tuple[OutcomePayment, ...]


@dataclass(frozen=True)
class ActivityLine:
    price: ActivityPrice
    count: int
    amount_pence: int


@dataclass(frozen=True)
class OutcomeLine:
    payment: OutcomePayment
    count: int
    paid_count: int  # the outcomes that earn a payment (0 below threshold, at most target)
    amount_pence: int
    maximum_pence: int

    @property
    def progress(self) -> float:
        """How far the count is towards the target (0 to 1), for a progress bar."""
        return min(self.count, self.payment.target) / self.payment.target


@dataclass(frozen=True)
class Earnings:
    agreement: FundingAgreement
    activities: tuple[ActivityLine, ...]
    outcomes: tuple[OutcomeLine, ...]

    @property
    def activity_pence(self) -> int:
        return sum(line.amount_pence for line in self.activities)

    @property
    def outcome_pence(self) -> int:
        return sum(line.amount_pence for line in self.outcomes)

    @property
    def total_pence(self) -> int:
        return self.agreement.guaranteed_pence + self.activity_pence + self.outcome_pence


def outcome_paid_count(count: int, threshold: int, target: int) -> int:
    """How many outcomes earn their payment: none below the threshold, then each one up to the
    target."""
    return 0 if count < threshold else min(count, target)


def earnings(agreement: FundingAgreement, activity_counts: Mapping[str, int],
             outcome_counts: Mapping[str, int]) -> Earnings:
    """What the counts earn under `agreement`. Activity counts are keyed like
    `ActivityPrice.key`; outcome counts by outcome code; missing keys count 0."""
    activities = tuple(
        ActivityLine(price, n, n * price.price_pence)
        for price in agreement.activities
        for n in [activity_counts.get(price.key, 0)]
    )
    outcomes = []
    for payment in agreement.outcomes:
        count = outcome_counts.get(payment.code, 0)
        paid = outcome_paid_count(count, payment.threshold, payment.target)
        outcomes.append(OutcomeLine(payment, count, paid, paid * payment.payment_pence,
                                    payment.target * payment.payment_pence))
    return Earnings(agreement, activities, tuple(outcomes))


# -- loading ----------------------------------------------------------------------------------

def _positive_int(data: Mapping[str, Any], key: str, where: str, problems: list[str], *,
                  allow_zero: bool = True) -> int:
    value = data.get(key)
    # bool is an int in Python; a YAML `true` is never a sum of money or a count.
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        least = "0 or more" if allow_zero else "1 or more"
        problems.append(f"{where}/{key}: must be a whole number, {least}")
        return 0
    return value


def _label(data: Mapping[str, Any], where: str, problems: list[str]) -> str:
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{where}/label: must be a non-empty text")
        return ""
    return label


def _activity(data: Any, where: str, problems: list[str]) -> ActivityPrice | None:
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    code = data.get("code")
    if code not in ACTIVITY_CODES:
        problems.append(f"{where}/code: must be one of {', '.join(ACTIVITY_CODES)}")
    line = data.get("service_line")
    if line is not None and (code != "plan_entry_completed" or not isinstance(line, str)):
        problems.append(f"{where}/service_line: only plan_entry_completed takes a service line")
    return ActivityPrice(str(code), _label(data, where, problems),
                         _positive_int(data, "price_pence", where, problems), line)


def _outcome(data: Any, where: str, problems: list[str],
             known_codes: frozenset[str] | None) -> OutcomePayment | None:
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    code = data.get("code")
    if not isinstance(code, str) or (known_codes is not None and code not in known_codes):
        problems.append(f"{where}/code: not an outcome code of this partnership")
    threshold = _positive_int(data, "threshold", where, problems)
    target = _positive_int(data, "target", where, problems, allow_zero=False)
    if target and threshold > target:
        problems.append(f"{where}/threshold: must not be above the target")
    return OutcomePayment(str(code), _label(data, where, problems),
                          _positive_int(data, "payment_pence", where, problems),
                          threshold, target)


def _duplicates(keys: list[str], where: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            problems.append(f"{where}: {key} is priced twice")
        seen.add(key)


def build_agreement(name: str, protocol: str, data: Any,
                    outcome_codes: frozenset[str] | None = None) -> FundingAgreement:
    """A validated agreement from a file's parsed contents, or a PolicyFileError listing every
    problem, each naming the file and the field. `outcome_codes`, when given, are the codes
    the partnership may pay for."""
    if not isinstance(data, dict):
        raise PolicyFileError([f"{name}: (top level): must be a mapping"])
    problems: list[str] = []
    if data.get("protocol") != protocol:
        problems.append(f"{name}: protocol: must be {protocol!r}, the directory's name")
    activities_in = data.get("activities") or []
    outcomes_in = data.get("outcomes") or []
    if not isinstance(activities_in, list) or not isinstance(outcomes_in, list):
        raise PolicyFileError([f"{name}: activities and outcomes must be lists"])
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{name}: title: must be a non-empty text")
    activities = [a for i, item in enumerate(activities_in)
                  if (a := _activity(item, f"{name}: activities/{i}", problems))]
    outcomes = [o for i, item in enumerate(outcomes_in)
                if (o := _outcome(item, f"{name}: outcomes/{i}", problems, outcome_codes))]
    _duplicates([a.key for a in activities], f"{name}: activities", problems)
    _duplicates([o.code for o in outcomes], f"{name}: outcomes", problems)
    period = _positive_int(data, "period_months", name + ":", problems, allow_zero=False)
    guaranteed = _positive_int(data, "guaranteed_pence", name + ":", problems)
    if problems:
        raise PolicyFileError(problems)
    return FundingAgreement(protocol, str(title), period, guaranteed, tuple(activities),
                            tuple(outcomes))


def load_agreement(path: Path, outcome_codes: frozenset[str] | None = None) -> FundingAgreement:
    """The agreement in `path` (partnerships/<protocol-id>/funding.yaml)."""
    data, _hash = read_yaml(path)
    name = f"{path.parent.name}/{path.name}"
    return build_agreement(name, path.parent.name, data, outcome_codes)


def load_agreements(directory: Path, outcome_codes: Callable[[str], Collection[str]] | None = None,
                    ) -> dict[str, FundingAgreement]:
    """Every partnership's agreement under `directory`, by protocol id (none: no directory).
    `outcome_codes(protocol_id)`, when given, lists the codes that partnership may pay for
    (its outcomes.yaml); checked at start-up, so the app refuses to start on a bad file."""
    if not directory.is_dir():
        return {}
    agreements = {}
    for path in sorted(directory.glob(f"*/{FILE_NAME}")):
        codes = frozenset(outcome_codes(path.parent.name)) if outcome_codes else None
        agreements[path.parent.name] = load_agreement(path, codes)
    return agreements
