"""Partial dates: dates a patient may know only in part (diagnosis, history, prior therapy).

Pure module. A partial date keeps what was recorded (year, optional month, optional day) and is
stored as its ISO text ("2019", "2019-05", "2019-05-17"), which sorts in calendar order: a shorter
text sorts before every longer one of the same prefix, as the earliest possible date would.

Imputation rule (stated once, used everywhere): a start date imputes to the first possible day
(2019 -> 2019-01-01, 2019-05 -> 2019-05-01), an end date to the last possible day
(2019 -> 2019-12-31, 2019-02 -> 2019-02-28). The recorded value is never overwritten.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

# ASCII digits only: Arabic-Indic or full-width digits are not accepted as a date (\d would match them).
_PATTERN = re.compile(r"^(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?$", re.ASCII)


class PartialDateError(ValueError):
    pass


class Imputation(StrEnum):
    START = "start"
    END = "end"


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1800 <= self.year <= 9999:
            raise PartialDateError(f"year {self.year} is out of range")
        if self.month is None and self.day is not None:
            raise PartialDateError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise PartialDateError(f"month {self.month} is not 1-12")
        if self.day is not None and self.month is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise PartialDateError(f"day {self.day} does not exist in {self.year}-{self.month:02d}")

    # Missing parts sort first, as the stored ISO text does ("2019" < "2019-01" < "2019-01-01").
    def _key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: PartialDate) -> bool:
        return self._key() < other._key()

    def __le__(self, other: PartialDate) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: PartialDate) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: PartialDate) -> bool:
        return self._key() >= other._key()

    @classmethod
    def parse(cls, value: str | dt.date | PartialDate) -> PartialDate:
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        match = _PATTERN.fullmatch(str(value).strip())
        if not match:
            raise PartialDateError(f"{value!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
        month = match.group("month")
        day = match.group("day")
        return cls(int(match.group("year")), int(month) if month else None, int(day) if day else None)

    @property
    def is_complete(self) -> bool:
        return self.day is not None

    @property
    def precision(self) -> str:
        return "day" if self.day is not None else "month" if self.month is not None else "year"

    def imputed(self, rule: Imputation | str = Imputation.START) -> dt.date:
        rule = Imputation(rule)
        if rule is Imputation.START:
            return dt.date(self.year, self.month or 1, self.day or 1)
        month = self.month or 12
        return dt.date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    def earliest(self) -> dt.date:
        return self.imputed(Imputation.START)

    def latest(self) -> dt.date:
        return self.imputed(Imputation.END)

    def isoformat(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    def __str__(self) -> str:
        return self.isoformat()
