"""`__in` on integer columns ignores numbers the column cannot hold, as `=` already does.

Django turns `id = 10**30` into "no row" (its IntegerFieldOverflow), but `id IN (10**30)` is
sent to the database as it is: SQLite refuses an integer beyond 64 bits with OverflowError
(a 500 from any list of ticked ids, the administration's actions included), while
PostgreSQL compares it and finds nothing. Leaving such numbers out gives both databases
PostgreSQL's answer.
"""

from __future__ import annotations

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int) or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)
