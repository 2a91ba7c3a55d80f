"""Who may consent for themselves, per UK jurisdiction: a small pure table, read by the consent
rules (rules.py) with the claimant's registered jurisdiction and age. Sources in docs/consent.md.

- **England and Wales**: a child (under 18: Children Act 1989 s.105) consents for themselves
  when they are Gillick competent (Gillick v West Norfolk and Wisbech AHA [1986] AC 112), which
  is assessed and recorded, never presumed at any age; otherwise a person with parental
  responsibility decides, until 18.
- **Scotland**: a child of 12 or over is presumed to be of sufficient age and maturity to
  exercise their data protection rights (Data Protection Act 2018 s.208; Age of Legal Capacity
  (Scotland) Act 1991 s.2(4A)) unless shown otherwise; at 16 a young person has full legal
  capacity (1991 Act s.1(1)(b)) and parental responsibilities end (Children (Scotland) Act
  1995 s.1(2)), so no one consents for them as a parent.
- **All three**: a child's own consent given online (an information society service) needs the
  child to be 13 or over (UK GDPR Article 8(1), the age set by DPA 2018 s.9); younger, it is
  given in person or by a person with parental responsibility.
"""

from __future__ import annotations

from dataclasses import dataclass

JURISDICTIONS = ("england", "wales", "scotland")


@dataclass(frozen=True)
class ConsentAgeRules:
    """The ages the consent rules turn on, for one jurisdiction."""

    name: str  # as a sentence begins: "In Scotland"
    # From this age the person consents as an adult, and parental responsibility is over.
    adult_age: int
    # From this age a child is presumed able to consent for themselves (None: never presumed;
    # a competence assessment must be recorded).
    presumed_competent_from: int | None
    # What a recorded assessment of a child's competence tests.
    competence_test: str
    # The youngest a child may give their own consent online (UK GDPR Article 8).
    online_from: int
    # The law, as stored with a presumed competence (empty where nothing is presumed).
    presumption_basis: str = ""


GILLICK = "Gillick competence"
ONLINE_AGE = 13  # UK GDPR Article 8(1) as set for the UK by Data Protection Act 2018 s.9

RULES: dict[str, ConsentAgeRules] = {
    "england": ConsentAgeRules("In England", adult_age=18, presumed_competent_from=None,
                               competence_test=GILLICK, online_from=ONLINE_AGE),
    "wales": ConsentAgeRules("In Wales", adult_age=18, presumed_competent_from=None,
                             competence_test=GILLICK, online_from=ONLINE_AGE),
    "scotland": ConsentAgeRules(
        "In Scotland", adult_age=16, presumed_competent_from=12,
        competence_test="sufficient understanding (Age of Legal Capacity (Scotland) Act 1991 "
                        "s.2(4A))",
        online_from=ONLINE_AGE,
        presumption_basis="DPA 2018 s.208 (Scotland, 12+)"),
}
# A jurisdiction the table does not know gets the rules that presume nothing (fail closed):
# every child's own consent needs a recorded assessment, and parents decide until 18.
STRICTEST = ConsentAgeRules("Here", adult_age=18, presumed_competent_from=None,
                            competence_test=GILLICK, online_from=ONLINE_AGE)


def rules_for(jurisdiction: str) -> ConsentAgeRules:
    return RULES.get(jurisdiction, STRICTEST)
