"""What the CLI commands of every stage share: the database made ready, an organisation found by its code
or the command ended with a Russian message and exit code 2."""

from __future__ import annotations

import typer


def ready() -> None:
    from metodist.bootstrap import ensure_database

    ensure_database()


def organisation(code: str):
    from django.utils.translation import gettext as _

    from metodist.core.models import Organisation

    found = Organisation.objects.filter(code=code).first()
    if found is None:
        typer.echo(_("Организации с кодом «{code}» нет.").format(code=code), err=True)
        raise typer.Exit(2)
    return found
