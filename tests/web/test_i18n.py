"""The Welsh catalogue is complete and is what the app uses: every message marked in the
claimant-facing templates and plain-word tables has a Welsh translation, the catalogue loads
from the .po file itself (no compiled file to go stale), and dates come out in Welsh."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask

from caseshare.web import filters, i18n
from caseshare.web.claimant_words import TABLES

WEB = Path(i18n.__file__).parent
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def marked_messages() -> set[str]:
    keywords = {"_": None, "N_": None, "gettext": None}
    found = extract_from_dir(str(WEB), METHOD_MAP, keywords=keywords, comment_tags=())
    return {message for _file, _line, message, _comments, _context in found
            if isinstance(message, str)}


def welsh() -> dict[str, str]:
    with (i18n.CATALOGUES / "cy" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="cy")
    return {m.id: m.string for m in catalogue if m.id and isinstance(m.id, str)}


def test_every_marked_message_has_a_welsh_translation() -> None:
    marked, translated = marked_messages(), welsh()
    assert len(marked) > 50  # the extraction really found the templates and tables
    missing = sorted(m for m in marked if not translated.get(m))
    assert missing == [], f"run `make i18n` and translate: {missing}"
    for table in TABLES.values():
        assert set(table.values()) <= marked


def test_the_app_reads_welsh_from_the_po_file(app: Flask) -> None:
    with app.test_request_context("/"):
        i18n.use_language("cy")
        assert i18n._("Who has seen your information") == "Pwy sydd wedi gweld eich gwybodaeth"
        assert i18n.local_date(date(2026, 12, 5)) == "5 Rhagfyr 2026"
        # A moment is shown on its UK day: 00:30 BST on 2 July is 23:30 UTC on 1 July.
        assert i18n.local_date(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == "2 Gorffennaf 2026"
        assert i18n.local_time(datetime(2026, 7, 1, 13, 5, tzinfo=UTC)) == "14:05"
        i18n.use_language("fr")  # not offered: English
        assert i18n._("Who has seen your information") == "Who has seen your information"
        assert i18n.local_time(datetime(2026, 12, 1, 13, 5, tzinfo=UTC)) == "1:05pm"


def test_papers_name_welsh_partners_in_welsh(app: Flask) -> None:
    """The WASPI agreement gives each partner a Welsh name; a Welsh paper uses it, an English
    paper and the staff pages around it keep the English name, and a partner whose agreement
    has no Welsh name keeps its English name on a Welsh paper."""
    with app.test_request_context("/"):
        i18n.use_language("cy")
        assert filters.doc_org_name("tywi-recovery") == "Gwasanaeth Adferiad Tywi"
        assert filters.doc_org_name("carmarthenshire-housing") == (
            "Gwasanaethau Tai Cyngor Sir Caerfyrddin")
        assert filters.org_name("tywi-recovery") == "Tywi Recovery Service"  # staff page
        assert filters.doc_org_name("jcp-derby") == "Derby Jobcentre Plus"  # no Welsh name
        i18n.use_language("en")
        assert filters.doc_org_name("tywi-recovery") == "Tywi Recovery Service"
