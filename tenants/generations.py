"""Per-process caches of rows that rarely change, invalidated from PostgreSQL.

Hot paths (every request resolves its tenant; every token request loads
its client) read the same few rows again and again. Each process keeps
them in a bounded, least-recently-used ``ProcessCache``. Every cached kind
has a counter in the ``Generation`` table:

- a change bumps the counter in its own transaction: database triggers do
  it for every writer (``trigger_sql``), and the app's signals clear this
  process's cache at once and again at commit (``changed``);
- every process reads all counters at most once a second (one small query,
  ``check``) and clears the caches whose counter moved.

So a change counts at once in the process that made it and within a
second everywhere else, whatever the cache backend (which may be down, and
is per process by default). Security-relevant state is never trusted from
these caches longer than that.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings
from django.db import transaction

MISSING = object()

_caches: dict[str, list["ProcessCache"]] = {}
_lock = threading.Lock()
_seen: dict[str, int] = {}
_checked = float("-inf")


class ProcessCache:
    """A bounded LRU map, cleared when its kind's generation moves."""

    def __init__(self, kind: str, size_setting: str):
        self.kind = kind
        self.size_setting = size_setting
        self._rows: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        _caches.setdefault(kind, []).append(self)

    def get(self, key: Hashable, load: Callable[[], object]):
        """The cached value for ``key``, else ``load()`` (cached too, None included)."""
        check()
        with self._lock:
            value = self._rows.get(key, MISSING)
            if value is not MISSING:
                self._rows.move_to_end(key)
                return value
        value = load()
        with self._lock:
            self._rows[key] = value
            while len(self._rows) > getattr(settings, self.size_setting):
                self._rows.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


def clear(kind: str) -> None:
    for cache in _caches.get(kind, []):
        cache.clear()


def clear_all() -> None:
    """Forget everything (tests; the next read loads again)."""
    global _checked
    with _lock:
        for kind in _caches:
            clear(kind)
        _seen.clear()
        _checked = float("-inf")


def check() -> None:
    """Read the generations if a second has passed; clear the caches whose kind moved."""
    global _checked
    now = time.monotonic()
    interval = settings.GENERATION_CHECK_SECONDS
    if now - _checked < interval:
        return
    from tenants.models import Generation

    with _lock:
        if now - _checked < interval:
            return
        current = dict(Generation.objects.values_list("name", "value"))
        for kind in _caches:
            if current.get(kind) != _seen.get(kind):
                clear(kind)
        _seen.clear()
        _seen.update(current)
        _checked = now


def changed(kind: str) -> None:
    """A row of ``kind`` changed in this process: drop its cache here at once.

    The database triggers (``trigger_sql``) have bumped the counter, so the
    other processes follow within a second. Cleared again at commit: another
    thread of this process may read the old row until then.
    """
    clear(kind)
    transaction.on_commit(lambda: clear(kind))


def clearer(kind: str):
    """A signal receiver for ``changed`` (connect it to post_save and post_delete)."""

    def receiver(sender, **kwargs) -> None:
        changed(kind)

    return receiver


def trigger_sql(vendor: str, table: str, kind: str, columns=()) -> list[str]:
    """SQL for triggers that bump ``kind`` on any INSERT, UPDATE or DELETE of ``table``.

    In the database, so that every writer counts: a queryset ``update()``,
    a raw delete, an operator's SQL. ``columns`` limits the UPDATE trigger to
    changes of those columns (so that bookkeeping writes, such as a last-used
    stamp, do not empty every process's cache).
    """
    name = f"gen_{kind}_{table}"
    bump_sql = f"UPDATE tenants_generation SET value = value + 1 WHERE name = '{kind}'"  # noqa: S608
    update_of = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ "
            f"BEGIN {bump_sql}; RETURN NULL; END $$ LANGUAGE plpgsql",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER INSERT OR {update_of} OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {name}_{event.split()[0].lower()}"
            for event in ("INSERT", update_of, "DELETE")
        ] + [
            f"CREATE TRIGGER {name}_{event.split()[0].lower()} AFTER {event} ON {table} "
            f"BEGIN {bump_sql}; END"
            for event in ("INSERT", update_of, "DELETE")
        ]
    raise NotImplementedError(f"No generation triggers for {vendor}.")


def install_triggers(schema_editor, table: str, kind: str, columns=()) -> None:
    """For migrations: the generation row of ``kind`` and the triggers on ``table``."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenants_generation (name, value) SELECT %s, 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM tenants_generation WHERE name = %s)",
            [kind, kind],
        )
        for statement in trigger_sql(schema_editor.connection.vendor, table, kind, columns):
            cursor.execute(statement)
