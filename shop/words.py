"""French wording shared by messages, pages and e-mails."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat

_INNER_GUILLEMETS = re.compile(r"«\s*(.*?)\s*»", re.DOTALL)


def guillemets(text: str) -> str:
    """`text` between French guillemets; guillemets already in it become “ ”, as French
    nests quotations: « Gravure “Jardin des Plantes” », never « Gravure « Jardin… » »."""
    nested = _INNER_GUILLEMETS.sub(r"“\1”", str(text))
    return f"« {nested} »"


PARIS = ZoneInfo("Europe/Paris")


def day_in_words(day: date, *, weekday: bool = True) -> str:
    """« samedi 12 décembre 2026 », « mercredi 1er juillet 2026 »; without the weekday,
    « 1er juillet 2026 »."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {dateformat.format(day, 'F Y')}"
    return f"{dateformat.format(day, 'l')} {text}" if weekday else text


def paris_day(moment: datetime) -> str:
    """The day of `moment` in Paris, in words (`day_in_words`)."""
    return day_in_words(moment.astimezone(PARIS).date())


def paris_moment(moment: datetime) -> str:
    """« samedi 12 décembre 2026 à 14:03:07 (heure de Paris) »: when something was sent, to
    the second, as an acknowledgement states it."""
    local = moment.astimezone(PARIS)
    return f"{day_in_words(local.date())} à {local:%H:%M:%S} (heure de Paris)"
