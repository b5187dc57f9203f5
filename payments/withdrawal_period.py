"""When a buyer may withdraw, and when the shop must have refunded them (SPEC §12). Pure:
dates in, dates out; settings and the calendar only.

The right of withdrawal runs from the payment until `WITHDRAWAL_DAYS` (14 at least) after
delivery (Code de la consommation L221-18), counted as L221-19 says:

- the day of delivery is not counted: the period ends at midnight (Europe/Paris) at the end of
  the `WITHDRAWAL_DAYS`-th day after it;
- a period that would end on a Saturday, a Sunday or a public holiday runs to the end of the
  next working day (France's holidays, Alsace and Moselle's included: a longer period is
  allowed, a shorter one is not);
- delivery is the day the owner recorded (`delivered_at`, « marquer livrée »); without it, the
  day of shipment plus `PRESUMED_TRANSIT_DAYS`; an order not yet shipped may be withdrawn from
  at any time.

The shop refunds within `REFUND_DAYS` of the withdrawal (L221-24).
"""

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")
# Without a recorded delivery, a parcel counts as delivered this many days after it left.
PRESUMED_TRANSIT_DAYS = 7
REFUND_DAYS = 14


def paris_day(moment: datetime) -> date:
    """The calendar day of `moment` in Paris."""
    return moment.astimezone(PARIS).date()


def delivery_day(*, shipped_at: datetime | None, delivered_at: datetime | None) -> date | None:
    """The day the parcel counts as received; None while it has not left."""
    if delivered_at is not None:
        return paris_day(delivered_at)
    if shipped_at is not None:
        return paris_day(shipped_at) + timedelta(days=PRESUMED_TRANSIT_DAYS)
    return None


def last_day(
    *, shipped_at: datetime | None, delivered_at: datetime | None, days: int
) -> date | None:
    """The last day (Paris) on which the buyer may withdraw, to its midnight; None while the
    order has not left (the period has not started to run out)."""
    delivered = delivery_day(shipped_at=shipped_at, delivered_at=delivered_at)
    if delivered is None:
        return None
    day = delivered + timedelta(days=days)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def is_open(
    *, shipped_at: datetime | None, delivered_at: datetime | None, days: int, now: datetime
) -> bool:
    """Whether a paid order may still be withdrawn from at `now`."""
    last = last_day(shipped_at=shipped_at, delivered_at=delivered_at, days=days)
    return last is None or paris_day(now) <= last


def day_starts_at(day: date) -> datetime:
    """Midnight in Paris at the start of `day`."""
    return datetime.combine(day, datetime.min.time(), tzinfo=PARIS)


def closes_at(last: date) -> datetime:
    """The moment the period ends: midnight in Paris after its last day."""
    return day_starts_at(last + timedelta(days=1))


def refund_deadline(withdrawn_at: datetime) -> date:
    """The last day (Paris) on which the shop must have refunded a withdrawal."""
    return paris_day(withdrawn_at) + timedelta(days=REFUND_DAYS)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


@functools.cache
def _holidays(year: int) -> frozenset[date]:
    """France's public holidays of `year`, with Alsace and Moselle's (Good Friday, 26 December)."""
    days: set[date] = set()
    for region in (None, "57", "6AE"):
        days |= set(holidays.country_holidays("FR", subdiv=region, years=year))
    return frozenset(days)
