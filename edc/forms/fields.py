"""A decimal stored exactly as entered: 1.0 stays 1.0, 70 stays 70.

A DecimalField pads to its decimal places (70 comes back as 70.00), which would change what the
eligibility engine shows ("weight 70 kg", "ULN 40") between a case file and the same patient
stored. This field keeps the number's own digits (stored as text, read as a Decimal); it is a
DecimalField for the form registry's check, the serializers and validation (max digits and
places still apply).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models


class EnteredDecimalField(models.DecimalField):
    description = "Decimal number, kept with the digits it was entered with"

    def get_internal_type(self) -> str:
        return "CharField"

    def db_type(self, connection: Any) -> str | None:
        return "varchar(40)"

    def cast_db_type(self, connection: Any) -> str | None:
        return self.db_type(connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        if value in (None, ""):
            return None
        return Decimal(value)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return self.get_db_prep_value(value, connection, prepared=False)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = self.to_python(value)
        return None if value is None else format(value, "f")

    def get_prep_value(self, value: Any) -> Any:
        value = self.to_python(value)
        return None if value is None else format(value, "f")
