"""The names of a consent form's options (organisations, purposes, categories) on the consent
page, in the language the claimant reads the form in.

The staff member records the choices on an English page, but reads the options out to (or shows
them to) the claimant: on a Welsh form each option is named as the protocol names it in Welsh
(WASPI protocols are bilingual: the Welsh names are part of the agreement, not a translation of
it), with the staff page's English name beside it. Where the protocol gives no Welsh, the
English name alone is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from caseshare.policy.models import ProtocolSet
from caseshare.web.filters import category_label, org_name, purpose_name

STAFF_NAMES: dict[str, Callable[[str], str]] = {
    "organisation": org_name, "purpose": purpose_name, "category": category_label,
}


@dataclass(frozen=True)
class Option:
    code: str
    label: str  # in the form's language
    english: str | None  # the staff page's English name, when the label is Welsh


def option_names(protocols: ProtocolSet, kind: str, codes: Iterable[str],
                 language: str) -> list[Option]:
    """Each code of `kind` named for a form in `language`."""
    staff = STAFF_NAMES[kind]
    options = []
    for code in codes:
        english = staff(code)
        welsh = protocols.display_name(kind, code, "cy") if language == "cy" else None
        if welsh and welsh != protocols.display_name(kind, code, "en"):
            options.append(Option(code, welsh, english))
        else:
            options.append(Option(code, english, None))
    return options
