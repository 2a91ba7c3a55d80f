"""The reminder's words in English and Welsh, with the appointment in UK local time.

A small bilingual table rather than the web's gettext catalogue: the worker sends without a
Flask app, and the domain imports no Flask. The words name the time and the place only, never
the service or why the claimant goes (a text on a shared phone must not say "treatment")."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime

from caseshare.uk_time import UK

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Reminder: your appointment at {when}",
        "body": ("This is a reminder of your appointment at {when}, at {location}.\n\n"
                 "If you cannot go, please contact them to arrange another time.\n\n"
                 "You agreed to get these reminders. To stop them, tell the person who "
                 "arranged your appointment."),
        "format": "EEEE d MMMM y",
        "no_location": "the place you were told",
    },
    "cy": {
        "subject": "Nodyn atgoffa: eich apwyntiad am {when}",
        "body": ("Dyma nodyn i'ch atgoffa am eich apwyntiad am {when}, yn {location}.\n\n"
                 "Os na allwch fynd, cysylltwch â nhw i drefnu amser arall.\n\n"
                 "Fe wnaethoch gytuno i gael y negeseuon hyn. I'w hatal, dywedwch wrth y "
                 "person a drefnodd eich apwyntiad."),
        "format": "EEEE d MMMM y",
        "no_location": "y lle a ddywedwyd wrthych",
    },
}


def appointment_time(at: datetime, language: str) -> str:
    """The appointment in UK local time (GMT or BST), worded for the language: "10:30am on
    Wednesday 25 November 2026" (GOV.UK style), "10:30, Dydd Mercher 25 Tachwedd 2026"."""
    local = at.astimezone(UK)
    day = format_datetime(local, WORDS[language]["format"], locale=language)
    if language == "cy":
        return f"{local:%H:%M}, {day}"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'} on {day}"


def reminder_text(language: str, at: datetime, location: str | None) -> tuple[str, str, str]:
    """(subject, body, the appointment time as written) for a reminder."""
    words = WORDS[language]
    when = appointment_time(at, language)
    place = location or words["no_location"]
    return (words["subject"].format(when=when),
            words["body"].format(when=when, location=place), when)
