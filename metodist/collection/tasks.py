"""Background import of a file uploaded through the site (django-tasks).

The page saves the file under MEDIA_ROOT/uploads/<date>/<upload id>/, records an `Upload` with status
«выполняется» and the options the user chose, and enqueues `import_upload(upload id)`. The task calls
the very `import_file()` the CLI calls (same transaction, same checks, same Russian messages) as the
uploading user in the role he acted in, and reports how far it has got:

* `Upload.stage` and `Upload.progress` at the boundaries of the work (queued, reading and checking, done);
* while the results are being written, inside the import's transaction, the row cannot be updated where
  the page would see it (SQLite allows one writer), so the share written goes to a small file beside the
  uploaded one (`progress.json`), which the polled page reads too.

`import_file()` records the outcome in an `Upload` of its own; the task moves it onto the page's
`Upload` (every row pointing to it is re-pointed, then it is deleted), so one file sent through the site
is one row of the history, whatever came of it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from metodist.collection.importers.base import Problem
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import Upload, UploadStatus
from metodist.core import acting
from metodist.core.models import AuditEntry, RoleAssignment

logger = logging.getLogger(__name__)

#: what `Upload.stage` holds while a site upload runs (the page shows their Russian names)
QUEUED, READING, SAVING, DONE = "queued", "reading", "saving", "done"
#: the share of the bar each stage starts at; writing the rows fills SAVING_FROM … SAVING_TO
READING_AT, SAVING_FROM, SAVING_TO = 5, 10, 98
PROGRESS_FILE = "progress.json"
FIELDS_OF_OUTCOME = ("file_name", "checksum", "size", "format", "assessment_id", "status", "counts", "errors",
                     "finished_at", "replaces_id")


def upload_directory(upload: Upload) -> Path:
    """Where the file of a site upload is kept: MEDIA_ROOT/uploads/<date>/<id>/."""
    return Path(settings.MEDIA_ROOT) / "uploads" / timezone.localdate(upload.created_at).isoformat() / str(upload.pk)


def stored_path(upload: Upload) -> Path | None:
    return Path(settings.MEDIA_ROOT) / upload.stored_file if upload.stored_file else None


def progress_file(upload: Upload) -> Path | None:
    path = stored_path(upload)
    return path.parent / PROGRESS_FILE if path is not None else None


def read_progress(upload: Upload) -> dict:
    """The progress of a running upload: the row's, or the writing stage's from the file beside the upload."""
    state = {"stage": upload.stage or QUEUED, "progress": upload.progress, "done": None, "total": None}
    path = progress_file(upload) if upload.status == UploadStatus.RUNNING else None
    if path is not None:
        try:
            written = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            written = None
        if isinstance(written, dict) and int(written.get("progress", 0)) >= state["progress"]:
            state.update({k: written.get(k) for k in ("stage", "progress", "done", "total")})
    return state


class Reporter:
    """The `progress(done, total)` callback of `import_file`: writes the share done to `progress.json`,
    at most twice a second (and always the last step)."""

    def __init__(self, upload: Upload, interval: float = 0.5):
        self.path = progress_file(upload)
        self.interval = interval
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.path is None or (done < total and now - self.last < self.interval):
            return
        self.last = now
        share = done / total if total else 1.0
        state = {"stage": SAVING, "progress": SAVING_FROM + round((SAVING_TO - SAVING_FROM) * share),
                 "done": done, "total": total}
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(state), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:  # progress is a courtesy: a full disk must not break the import
            logger.warning("could not write the progress of %s", self.path)

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


@task()
def import_upload(upload_id: int) -> str:
    """Import the stored file of one site upload; returns the upload's final status."""
    upload = run_import(upload_id)
    return upload.status if upload is not None else ""


def run_import(upload_id: int) -> Upload | None:
    upload = Upload.objects.select_related("uploaded_by").filter(pk=upload_id, status=UploadStatus.RUNNING).first()
    if upload is None:  # already done (a task enqueued twice) or deleted
        return None
    reporter = Reporter(upload)
    try:
        return _run(upload, reporter)
    except Exception as exc:  # import_file never raises for bad input; this is a bug or a lost database
        logger.exception("site upload %s failed", upload_id)
        message = _("Загрузка файла {name} прервана из-за внутренней ошибки ({error}); база данных не изменилась. "
                    "Сообщите администратору.").format(name=upload.file_name, error=type(exc).__name__)
        Upload.objects.filter(pk=upload_id, status=UploadStatus.RUNNING).update(
            status=UploadStatus.FAILED, stage=DONE, progress=100, message=message, finished_at=timezone.now(),
            errors=[Problem(message, file=upload.file_name).as_dict()],
        )
        return Upload.objects.filter(pk=upload_id).first()
    finally:
        reporter.clear()


def _run(upload: Upload, reporter: Reporter) -> Upload:
    chosen = upload.options
    user = upload.uploaded_by
    if user is None:  # his account was deleted meanwhile: nobody to check the rights of
        return _conclude(upload, UploadStatus.REJECTED, _(
            "Учётная запись, с которой загружен файл, удалена; ничего не загружено."))
    if user is not None and chosen.get("role"):
        role = RoleAssignment.objects.select_related("organisation").filter(pk=chosen["role"], user=user).first()
        if role is None:
            return _conclude(upload, UploadStatus.REJECTED, _(
                "У пользователя больше нет роли, в которой загружался файл; ничего не загружено."))
        acting._apply(user, role)  # the import sees what the user saw on the page: his acting role's subtree
    path = stored_path(upload)
    if path is None or not path.is_file():
        return _conclude(upload, UploadStatus.FAILED, _(
            "Файл {name} не сохранился на сервере; загрузите его ещё раз.").format(name=upload.file_name))
    Upload.objects.filter(pk=upload.pk).update(stage=READING, progress=READING_AT)
    options = ImportOptions(
        format=chosen.get("format") or None, assessment=chosen.get("assessment") or None,
        school=chosen.get("school") or None, dry_run=bool(chosen.get("dry_run")),
        valid_rows_only=bool(chosen.get("valid_rows_only")),
        create_organisations=bool(chosen.get("create_organisations")), acting_user=user, progress=reporter,
    )
    outcome = import_file(path, options)
    return record_outcome(upload, outcome)


def _conclude(upload: Upload, status: str, message: str) -> Upload:
    upload.status, upload.message, upload.stage, upload.progress = status, message, DONE, 100
    upload.errors = [Problem(message, file=upload.file_name).as_dict()]
    upload.finished_at = timezone.now()
    upload.save()
    return upload


@transaction.atomic
def record_outcome(upload: Upload, outcome) -> Upload:
    """Put what `import_file` made of the file onto the page's upload."""
    made = outcome.upload
    if made is not None and outcome.status == "unchanged":
        upload.status = UploadStatus.CHECKED
        upload.duplicate_of = made
        upload.assessment_id, upload.organisation_id = made.assessment_id, made.organisation_id or upload.organisation_id
        upload.format, upload.counts = made.format, outcome.counts
        upload.errors, upload.finished_at = [], timezone.now()
    elif made is not None and made.pk > upload.pk:
        _adopt(upload, made)
    else:  # nothing recorded by the import: a dry run, an unreadable file, an unknown format or work
        upload.status = outcome.status
        upload.format = outcome.format or upload.format
        upload.counts = outcome.counts
        upload.errors = [p.as_dict() for p in outcome.problems]
        upload.finished_at = timezone.now()
    upload.message = outcome.message[:1000]
    upload.stage, upload.progress = DONE, 100
    _link_correction(upload)
    upload.save()
    return upload


def _adopt(upload: Upload, made: Upload) -> None:
    """Move everything `import_file` attached to its own upload `made` onto `upload`, then delete `made`."""
    for relation in Upload._meta.related_objects:
        if relation.many_to_many:
            continue
        name = relation.field.name
        relation.related_model._base_manager.filter(**{name: made.pk}).update(**{name: upload.pk})
    for name in FIELDS_OF_OUTCOME:
        setattr(upload, name, getattr(made, name))
    if made.organisation_id is not None:
        upload.organisation_id = made.organisation_id
    AuditEntry.objects.filter(object_type="upload", object_id=str(made.pk)).update(object_id=str(upload.pk))
    Upload.objects.filter(pk=made.pk).delete()


def _link_correction(upload: Upload) -> None:
    """A corrected file sent from a rejected (or failed, or only checked) upload's page replaces it; an
    imported one is replaced by the importer itself when the correction takes all its results' place."""
    corrected = upload.options.get("corrects")
    if not corrected or upload.replaces_id is not None:
        return
    if upload.status not in (UploadStatus.IMPORTED, UploadStatus.IMPORTED_PARTLY):
        return
    previous = Upload.objects.filter(pk=corrected).exclude(pk=upload.pk).first()
    if previous is None:
        return
    if previous.status in (UploadStatus.REJECTED, UploadStatus.FAILED, UploadStatus.CHECKED):
        previous.status = UploadStatus.REPLACED
        previous.save(update_fields=["status"])
        upload.replaces = previous
