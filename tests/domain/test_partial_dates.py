import datetime as dt

import pytest

from edc.core.partial_dates import PartialDate, PartialDateError


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2019", dt.date(2019, 1, 1), dt.date(2019, 12, 31)),
        ("2019-05", dt.date(2019, 5, 1), dt.date(2019, 5, 31)),
        ("2019-02", dt.date(2019, 2, 1), dt.date(2019, 2, 28)),
        ("2020-02", dt.date(2020, 2, 1), dt.date(2020, 2, 29)),
        ("2019-05-17", dt.date(2019, 5, 17), dt.date(2019, 5, 17)),
    ],
)
def test_start_dates_impute_to_first_and_end_dates_to_last_possible_day(text, start, end):
    value = PartialDate.parse(text)
    assert value.imputed("start") == start
    assert value.imputed("end") == end
    assert str(value) == text  # the original is kept


def test_partial_dates_sort_in_calendar_order_with_missing_parts_first():
    texts = ["2019-05-17", "2018", "2019", "2019-05", "2019-12-01", "2019-01"]
    ordered = sorted(PartialDate.parse(t) for t in texts)
    assert [str(d) for d in ordered] == ["2018", "2019", "2019-01", "2019-05", "2019-05-17", "2019-12-01"]
    # The stored text sorts the same way, so the database orders them correctly too.
    assert sorted(texts) == [str(d) for d in ordered]


def test_partial_dates_compare_and_equal_on_what_was_recorded():
    assert PartialDate.parse("2019") < PartialDate.parse("2019-01")
    assert PartialDate.parse("2019-05") == PartialDate(2019, 5)
    assert PartialDate.parse("2019-05") != PartialDate.parse("2019-05-01")
    assert PartialDate.parse("2020") > PartialDate.parse("2019-12-31")


@pytest.mark.parametrize(
    "text", ["19", "2019-13", "2019-02-30", "2019-5", "May 2019", "", "2019-00", "2019--01"]
)
def test_malformed_or_impossible_partial_dates_are_refused(text):
    with pytest.raises(PartialDateError):
        PartialDate.parse(text)


def test_a_day_without_a_month_is_refused():
    with pytest.raises(PartialDateError):
        PartialDate(2019, None, 3)


def test_precision_is_reported():
    assert PartialDate.parse("2019").precision == "year"
    assert PartialDate.parse("2019-04").precision == "month"
    assert PartialDate.parse("2019-04-02").precision == "day"
