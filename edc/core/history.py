"""History rows are append-only: added by simple-history, never changed or deleted.

Two guards, one per layer:

- **The ORM, on every database.** `guard_history_models()` (run once from CoreConfig.ready) makes every
  historical model of every app refuse `save()` of a stored row, `delete()`, and `QuerySet.update()`,
  `delete()`, `bulk_update()`, `update_or_create()`, through every manager (`Model.history`,
  `HistoricalX.objects`, the base manager). Models of later apps are covered without code of their own.
- **PostgreSQL, for raw SQL too.** A trigger refuses UPDATE and DELETE on every historical table. It is
  installed by the migration operation `HistoryAppendOnly`: the migration that creates a historical
  table ends with `HistoryAppendOnly()` (see docs/audit.md). A test and the database system check
  `core.E010` name every historical table that lacks it.

TRUNCATE is not refused: test databases are flushed with it, and it needs table ownership, which the
application's database role should not have in production.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps as global_apps
from django.core import checks
from django.db import connections, models
from django.db.migrations.operations.base import Operation
from django.db.models.signals import pre_delete, pre_save

from edc.core.exceptions import HistoryIsAppendOnly

TRIGGER_NAME = "edc_history_append_only"
FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {TRIGGER_NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
"""


def is_history_model(model: type[models.Model]) -> bool:
    """A simple-history table: a historical model or the history of one of its many-to-many fields.

    Told by its columns, so it works on migration-state models as well as on the app registry's.
    """
    names = {field.name for field in model._meta.get_fields()}
    return {"history_id", "history_date", "history_type"} <= names or "m2m_history_id" in names


def history_models(app_configs: Iterable[Any] | None = None) -> list[type[models.Model]]:
    configs = app_configs if app_configs is not None else global_apps.get_app_configs()
    return [
        model
        for config in configs
        for model in config.get_models()
        if model._meta.managed and not model._meta.proxy and is_history_model(model)
    ]


# --- the ORM guard ---------------------------------------------------------------------------------


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise HistoryIsAppendOnly("History rows are append-only: they are never changed or deleted.")


class AppendOnlyQuerySetMixin:
    """Mixed into every queryset class of a historical model. Reading and adding (bulk_create) stay."""

    update = _refuse
    delete = _refuse
    bulk_update = _refuse
    update_or_create = _refuse


_append_only_classes: dict[type, type] = {}


def _append_only(queryset_class: type[models.QuerySet]) -> type[models.QuerySet]:
    if issubclass(queryset_class, AppendOnlyQuerySetMixin):
        return queryset_class
    if queryset_class not in _append_only_classes:
        _append_only_classes[queryset_class] = type(
            f"AppendOnly{queryset_class.__name__}", (AppendOnlyQuerySetMixin, queryset_class), {}
        )
    return _append_only_classes[queryset_class]


def _refuse_changing_a_stored_row(
    sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any
) -> None:
    # A new row has no history_id yet; a set one means save() would UPDATE an existing row.
    if update_fields is not None or not instance._state.adding or instance.pk is not None:
        _refuse()


def _refuse_deleting(sender: Any, instance: Any, **kwargs: Any) -> None:
    _refuse()


def guard_history_models() -> None:
    """Make every historical model of the registry refuse changes and deletions (idempotent)."""
    for model in history_models():
        opts = model._meta
        # Patch the declared managers (Options copies them into `managers` and rebuilds that cache), and
        # make the base manager one of them, so the guard survives a registry cache reset.
        for manager in opts.local_managers:
            manager._queryset_class = _append_only(manager._queryset_class)  # type: ignore[attr-defined]  # private, unstubbed
        opts.base_manager_name = opts.base_manager_name or opts.local_managers[0].name
        opts._expire_cache()  # type: ignore[attr-defined]  # Django's private Options API
        pre_save.connect(_refuse_changing_a_stored_row, sender=model, dispatch_uid=f"edc_history_{model}")
        pre_delete.connect(_refuse_deleting, sender=model, dispatch_uid=f"edc_history_{model}")
    # The `Model.history` managers are built per access from a descriptor on the tracked model (and on
    # the historical model for many-to-many history): give those the append-only queryset too.
    from simple_history.manager import HistoryDescriptor

    for model in global_apps.get_models():
        for value in vars(model).values():
            if isinstance(value, HistoryDescriptor):
                value.queryset_class = _append_only(value.queryset_class)


# --- the PostgreSQL trigger ------------------------------------------------------------------------


def _trigger_sql(table: str, quote: Any) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {TRIGGER_NAME} ON {quote(table)}",
        f"CREATE TRIGGER {TRIGGER_NAME} BEFORE UPDATE OR DELETE ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER_NAME}()",
    ]


class HistoryAppendOnly(Operation):
    """Migration operation: install the append-only trigger on the app's historical tables (PostgreSQL).

    Put `HistoryAppendOnly()` last in every migration that creates a historical table (or rebuilds
    one). Idempotent; a no-op on other databases, where the ORM guard is the protection.
    `app_label` names another app whose tables exist by then (core's first use covers the apps that
    predate this operation).
    """

    reversible = True
    reduces_to_sql = False

    def __init__(self, app_label: str | None = None) -> None:
        self.app_label = app_label

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"app_label": self.app_label} if self.app_label else {}
        return (self.__class__.__name__, [], kwargs)

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _tables(self, app_label: str, state: Any) -> list[str]:
        config = state.apps.get_app_config(self.app_label or app_label)
        return [model._meta.db_table for model in history_models([config])]

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(FUNCTION_SQL, params=None)  # its % are PL/pgSQL, not placeholders
        for table in self._tables(app_label, to_state):
            for sql in _trigger_sql(table, schema_editor.quote_name):
                schema_editor.execute(sql)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in self._tables(app_label, from_state):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {TRIGGER_NAME} ON {schema_editor.quote_name(table)}"
            )

    def describe(self) -> str:
        return (
            f"Make the historical tables of {self.app_label or 'this app'} append-only (PostgreSQL trigger)"
        )


def tables_without_trigger(using: str = "default") -> list[str]:
    """Historical tables of the registry that lack the append-only trigger (PostgreSQL; else [])."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND NOT t.tgisinternal",
            [TRIGGER_NAME],
        )
        guarded = {row[0] for row in cursor.fetchall()}
        # A table not created yet is a migration still to run (migrate checks before it migrates).
        existing = set(connection.introspection.table_names(cursor))
    tables = {model._meta.db_table for model in history_models()} & existing
    return sorted(tables - guarded)


@checks.register(checks.Tags.database)
def check_history_triggers(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """`manage.py check --database default`: every historical table carries the trigger."""
    errors = []
    for alias in databases or []:
        for table in tables_without_trigger(alias):
            errors.append(
                checks.Error(
                    f"The historical table {table} lacks the append-only trigger.",
                    hint="End the migration that creates it with edc.core.history.HistoryAppendOnly().",
                    id="core.E010",
                )
            )
    return errors
