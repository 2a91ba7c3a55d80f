"""Welsh and English for the claimant-facing pages (consent receipt, "who has seen my
information"), from gettext message catalogues in translations/<lang>/LC_MESSAGES/messages.po.

The staff pages are in English; a claimant-facing document is rendered in the language chosen
for it (`use_language`), whatever the staff member's browser says, and carries its own `lang`.
The .po files are read with Babel when the process starts (a few milliseconds), so there is no
compile step to forget and no compiled .mo that can drift from its source: a fresh
`make install` has working Welsh. `make i18n` re-extracts the messages and updates the
catalogues; tests/web/test_i18n.py fails if any marked message has no Welsh translation.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g

from caseshare.uk_time import UK

CATALOGUES = Path(__file__).with_name("translations")
LANGUAGES = ("en", "cy")


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; translated where it is shown."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not path.exists():
        return gettext.NullTranslations()  # the messages are written in English
    with path.open("rb") as po:
        catalogue = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language() -> str:
    lang: str = g.get("doc_lang", "en")
    return lang


def use_language(lang: str | None) -> str:
    """Render the claimant-facing text of this request in `lang` (English if not offered)."""
    chosen = lang if lang in LANGUAGES else "en"
    g.doc_lang = chosen
    return chosen


def _(message: str, **values: Any) -> str:
    text = translations(language()).gettext(message)
    return text % values if values else text


def local_date(value: date | datetime | None) -> str:
    """'5 December 2026' or '5 Rhagfyr 2026', in UK time for moments."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UK).date()
    return str(format_date(value, "d MMMM y", locale=language()))


def local_time(value: datetime) -> str:
    """'2:05pm' in English, '14:05' in Welsh, UK time."""
    moment = value.astimezone(UK)
    if language() == "cy":
        return str(format_time(moment, "HH:mm", locale="cy"))
    return f"{moment:%-I:%M}{'am' if moment.hour < 12 else 'pm'}"


def capitalize_first(text: str) -> str:
    """'your money' -> 'Your money' (str.capitalize would lower-case 'Universal Credit')."""
    return text[:1].upper() + text[1:]


def register(app: Flask) -> None:
    """Jinja's i18n extension with this module's gettext, and the date filters."""
    app.jinja_env.add_extension("jinja2.ext.i18n")

    # New-style gettext: Jinja escapes the message, then fills in %(name)s values.
    def jinja_gettext(message: str) -> str:
        return translations(language()).gettext(message)

    def jinja_ngettext(singular: str, plural: str, n: int) -> str:
        return translations(language()).ngettext(singular, plural, n)

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        jinja_gettext, jinja_ngettext, newstyle=True)
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(datetime.fromisoformat, "parse_moment")
    app.add_template_filter(capitalize_first, "capitalize_first")
    app.add_template_filter(local_time, "local_time")
    app.add_template_global(language, "doc_language")
