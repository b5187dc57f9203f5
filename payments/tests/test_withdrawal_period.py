"""The withdrawal period at its edges (payments/withdrawal_period.py): days counted in Paris,
from delivery (recorded, else shipment + 7 days), to the end of the 14th day, carried past
weekends and holidays (Code de la consommation L221-18, L221-19)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from payments import withdrawal_period as period

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def last(delivered: datetime | None = None, shipped: datetime | None = None, days: int = 14):
    return period.last_day(shipped_at=shipped, delivered_at=delivered, days=days)


def is_open(now: datetime, delivered: datetime | None = None, shipped: datetime | None = None):
    return period.is_open(shipped_at=shipped, delivered_at=delivered, days=14, now=now)


def test_an_order_not_shipped_may_be_withdrawn_from_at_any_time():
    assert last() is None
    assert is_open(paris(2030, 1, 1, 12))


def test_the_day_of_delivery_is_not_counted_and_the_last_day_runs_to_midnight_in_paris():
    """Delivered on Wednesday 2 December 2026: open to the end of Wednesday 16 December,
    Paris time; closed from midnight."""
    delivered = paris(2026, 12, 2, 10, 0)
    assert last(delivered) == date(2026, 12, 16)
    assert is_open(paris(2026, 12, 16, 23, 59, 59, 999999), delivered)
    assert not is_open(paris(2026, 12, 17, 0, 0), delivered)
    # The same moments in UTC (Paris is UTC+1 in December).
    assert is_open(datetime(2026, 12, 16, 22, 59, 59, tzinfo=UTC), delivered)
    assert not is_open(datetime(2026, 12, 16, 23, 0, tzinfo=UTC), delivered)
    assert period.closes_at(date(2026, 12, 16)) == datetime(2026, 12, 16, 23, 0, tzinfo=UTC)


def test_a_delivery_recorded_after_midnight_in_paris_counts_from_the_paris_day():
    """00:30 on 3 December in Paris is still 2 December in UTC: the Paris day counts."""
    delivered = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    assert period.delivery_day(shipped_at=None, delivered_at=delivered) == date(2026, 12, 3)
    assert last(delivered) == date(2026, 12, 17)


def test_without_a_recorded_delivery_the_parcel_counts_as_delivered_7_days_after_shipment():
    shipped = paris(2026, 12, 1, 9, 0)
    assert period.delivery_day(shipped_at=shipped, delivered_at=None) == date(2026, 12, 8)
    assert last(shipped=shipped) == date(2026, 12, 22)
    assert is_open(paris(2026, 12, 22, 23, 59), shipped=shipped)
    assert not is_open(paris(2026, 12, 23, 0, 0), shipped=shipped)


def test_a_recorded_delivery_wins_over_the_presumed_one():
    shipped = paris(2026, 12, 1, 9, 0)
    delivered = paris(2026, 12, 3, 15, 0)  # faster than 7 days
    assert last(delivered, shipped) == date(2026, 12, 17)
    late = paris(2026, 12, 20, 15, 0)  # slower: the buyer is not penalised either
    assert last(late, shipped) == date(2027, 1, 4)  # 3 January 2027 is a Sunday


def test_a_period_ending_on_a_weekend_runs_to_the_next_monday():
    delivered = paris(2026, 12, 5, 11, 0)  # Saturday; + 14 = Saturday 19
    assert last(delivered) == date(2026, 12, 21)
    assert is_open(paris(2026, 12, 21, 23, 59), delivered)
    assert not is_open(paris(2026, 12, 22, 0, 0), delivered)


@pytest.mark.parametrize(
    ("delivered", "expected", "why"),
    [
        (date(2026, 12, 11), date(2026, 12, 28), "Christmas, then 26 December (Alsace), Sunday"),
        (date(2026, 4, 30), date(2026, 5, 15), "Ascension Thursday"),
        (date(2026, 7, 14) - timedelta(days=14), date(2026, 7, 15), "Bastille Day"),
        (date(2027, 3, 12), date(2027, 3, 30), "Good Friday (Alsace), weekend, Easter Monday"),
    ],
)
def test_a_period_ending_on_a_holiday_runs_to_the_next_working_day(delivered, expected, why):
    assert last(paris(delivered.year, delivered.month, delivered.day, 12)) == expected, why


def test_a_period_ending_on_the_day_clocks_change_closes_at_the_next_midnight():
    """Delivered 11 October 2026: + 14 is Sunday 25 October (clocks go back that night),
    carried to Monday 26; the period ends at midnight CET, 23:00 UTC."""
    delivered = paris(2026, 10, 11, 18, 0)
    assert last(delivered) == date(2026, 10, 26)
    assert period.closes_at(date(2026, 10, 26)) == datetime(2026, 10, 26, 23, 0, tzinfo=UTC)


def test_a_longer_period_may_be_set():
    delivered = paris(2026, 12, 2, 10, 0)
    assert last(delivered, days=30) == date(2027, 1, 1) + timedelta(days=3)  # 1 Jan: holiday


def test_the_refund_is_due_14_days_after_the_withdrawal_in_paris():
    assert period.refund_deadline(paris(2026, 12, 12, 23, 59)) == date(2026, 12, 26)
    assert period.refund_deadline(datetime(2026, 12, 12, 23, 30, tzinfo=UTC)) == date(2026, 12, 27)
