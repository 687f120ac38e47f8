"""Every command starts here: the database in the data directory is created and migrated when it is
missing or behind, and the shipped specifications are loaded. No separate set-up step."""

from __future__ import annotations

import os

_ready = False


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metodist.settings")
    import django

    django.setup()


def ensure_database(verbosity: int = 0) -> None:
    global _ready
    if _ready:
        return
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=verbosity)
    from metodist.reference.specs import ensure_shipped_specs

    ensure_shipped_specs()
    _ready = True
