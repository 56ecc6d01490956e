import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edc.settings")
application = get_wsgi_application()


def _freeze_the_loaded_code() -> None:
    """Load every view now and move what is loaded out of the garbage collector's sight.

    The loaded apps, URLconf and schema machinery are some 180,000 long-lived objects that every
    full collection walks again, at a random request (the overdue report of a 10,000-subject trial
    took 110 ms or 200 ms by the collections alone: docs/performance.md). Frozen, a collection walks
    only what requests create (gc.freeze, made for servers that load once)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    gc.collect()
    gc.freeze()


_freeze_the_loaded_code()
