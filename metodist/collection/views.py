"""Stage 1 pages: sending a file, watching its import, its errors, and the history of uploads.

A file sent here is saved, recorded as an `Upload` «выполняется» and imported by a background task
(`collection.tasks.import_upload`, django-tasks) through the same `import_file()` the CLI calls; the
upload's page polls `upload_progress` every second until the import is done.

Who may do what: region administrators, methodologists, school administrations and heads of
methodological associations send files (for the organisations of their role only; a school's upload is
restricted to that school); only region administrators and methodologists may let a file create the
schools missing from the registry. Teachers and viewers may not send files (403), but they see the
history and the pages of the uploads of their organisation (what was loaded, when, by whom, with what
errors: no pupil's name is ever stored), which is what a teacher needs to know whether his classes'
results are in.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from metodist.collection import tasks
from metodist.collection.forms import UPLOAD_ROLES, HistoryFilter, UploadForm, format_title
from metodist.collection.models import Upload, UploadStatus
from metodist.core.access import role_required
from metodist.core.models import OrganisationKind
from metodist.documents.common import Table
from metodist.documents.downloads import wants_xlsx, xlsx_response

ERRORS_PER_PAGE = 500
UPLOADS_PER_PAGE = 50
STAGE_TITLES = {
    tasks.QUEUED: gettext_lazy("Файл в очереди на загрузку."),
    tasks.READING: gettext_lazy("Файл читается и проверяется."),
    tasks.SAVING: gettext_lazy("Результаты записываются в базу."),
    tasks.DONE: gettext_lazy("Готово."),
}
STATUS_BADGES = {
    UploadStatus.RUNNING: "info", UploadStatus.IMPORTED: "good", UploadStatus.IMPORTED_PARTLY: "warn",
    UploadStatus.REJECTED: "bad", UploadStatus.CHECKED: "info", UploadStatus.REPLACED: "", UploadStatus.FAILED: "bad",
}
#: the figures of an upload's `counts` the pages name, in the order they are shown
COUNT_LABELS = {
    "rows": gettext_lazy("строк в файле"),
    "rows_rejected": gettext_lazy("строк с ошибками"),
    "works_imported": gettext_lazy("загружено работ"),
    "absent": gettext_lazy("отсутствовали"),
    "task_scores": gettext_lazy("баллов за задания"),
    "schools": gettext_lazy("школ"),
    "organisations_created": gettext_lazy("создано организаций"),
    "organisations_updated": gettext_lazy("обновлено организаций"),
    "organisations_moved": gettext_lazy("перенесено организаций"),
    "teachers_created": gettext_lazy("добавлено учителей"),
    "teachers_updated": gettext_lazy("обновлено учителей"),
    "diagnostics": gettext_lazy("диагностик"),
    "diagnostics_replaced": gettext_lazy("заменено диагностик"),
    "surveys": gettext_lazy("анкетирований"),
    "surveys_created": gettext_lazy("создано анкетирований"),
    "responses": gettext_lazy("ответов на анкеты"),
    "responses_replaced": gettext_lazy("заменено ответов"),
    "results": gettext_lazy("результатов"),
    "results_replaced": gettext_lazy("заменено результатов"),
    "pupils_created": gettext_lazy("добавлено обучающихся"),
    "tasks": gettext_lazy("заданий"),
    "published_rows": gettext_lazy("строк опубликованных результатов"),
    "replaced_uploads": gettext_lazy("заменено прежних загрузок"),
}


# --- access ------------------------------------------------------------------------------------------

def acting_role(request):
    return getattr(request.user, "metodist_acting", None)


def can_upload(request) -> bool:
    role = acting_role(request)
    if role is None:
        return request.user.is_superuser
    return role.role in UPLOAD_ROLES


def uploader_required(view):
    """A reader who may send files in the role he acts in; a teacher or a viewer gets 403 with a page
    that says so and leads to the history."""

    @role_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_upload(request):
            return render(request, "collection/upload_forbidden.html", {"current_stage": 1, "can_upload": False},
                          status=403)
        return view(request, *args, **kwargs)

    return wrapped


# --- sending a file ----------------------------------------------------------------------------------

def clean_file_name(name: str) -> str:
    """The name a user's file is saved under: its own (errors name it), without folders or control
    characters, at most 200 characters with its extension."""
    name = Path(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    if not name:
        name = "file"
    if len(name) > 200:
        suffix = Path(name).suffix[:20]
        name = name[: 200 - len(suffix)] + suffix
    return name


def start_upload(request, form: UploadForm, corrects: Upload | None = None) -> Upload:
    """Save the file, record the upload «выполняется» and enqueue its import."""
    role = acting_role(request)
    data = form.cleaned_data
    school = data.get("school")
    if role is not None and role.organisation.kind == OrganisationKind.SCHOOL:
        school = role.organisation
    organisation = school or (role.organisation if role is not None else None)
    if organisation is None and corrects is not None:
        organisation = corrects.organisation
    sent = data["file"]
    name = clean_file_name(sent.name)
    options = {
        "format": data.get("format") or "",
        "assessment": data["assessment"].code if data.get("assessment") else "",
        "school": school.code if school is not None else "",
        "dry_run": bool(data.get("dry_run")),
        "valid_rows_only": bool(data.get("valid_rows_only")),
        "create_organisations": bool(data.get("create_organisations")),
        "role": role.pk if role is not None else None,
        "corrects": corrects.pk if corrects is not None else None,
    }
    upload = Upload.objects.create(
        file_name=name, size=sent.size or 0, format=options["format"], status=UploadStatus.RUNNING,
        stage=tasks.QUEUED, progress=0, uploaded_by=request.user, organisation=organisation, options=options,
        assessment=data.get("assessment"),
    )
    directory = tasks.upload_directory(upload)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / name
        with open(target, "wb") as handle:
            for chunk in sent.chunks():
                handle.write(chunk)
    except OSError:
        message = _("Файл {name} не удалось сохранить на сервере (нет места или нет доступа); ничего не "
                    "загружено. Сообщите администратору.").format(name=name)
        Upload.objects.filter(pk=upload.pk).update(
            status=UploadStatus.FAILED, message=message, stage=tasks.DONE, progress=100, finished_at=timezone.now())
        return upload
    upload.stored_file = str(target.relative_to(Path(settings.MEDIA_ROOT)))
    upload.save(update_fields=["stored_file"])
    enqueue(upload)
    return upload


def enqueue(upload: Upload) -> None:
    try:
        tasks.import_upload.enqueue(upload.pk)
    except Exception as exc:  # noqa: BLE001 - the queue itself is broken: say so on the page, not as a traceback
        message = _("Загрузку файла {name} не удалось поставить в очередь ({error}); ничего не загружено. "
                    "Сообщите администратору.").format(name=upload.file_name, error=type(exc).__name__)
        Upload.objects.filter(pk=upload.pk, status=UploadStatus.RUNNING).update(
            status=UploadStatus.FAILED, message=message, stage=tasks.DONE, progress=100, finished_at=timezone.now())


def _upload_form_page(request, corrects: Upload | None = None):
    fixed = None
    if corrects is not None:
        fixed = {"format": corrects.format, "assessment": corrects.assessment.code if corrects.assessment else None,
                 "school": (corrects.options or {}).get("school")}
    form_kwargs = {"user": request.user, "role": acting_role(request), "fixed": fixed}
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            upload = start_upload(request, form, corrects=corrects)
            return redirect("collection:upload", pk=upload.pk)
    else:
        form = UploadForm(**form_kwargs)
    return render(request, "collection/upload.html", {
        "current_stage": 1, "subnav": "upload", "form": form, "corrects": corrects, "can_upload": True,
        "role": acting_role(request),
    })


@uploader_required
def upload_page(request):
    return _upload_form_page(request)


@uploader_required
def upload_replace(request, pk: int):
    corrects = get_object_or_404(Upload.objects.visible_to(request.user).select_related("assessment"), pk=pk)
    if corrects.status == UploadStatus.RUNNING:
        messages.error(request, _("Эта загрузка ещё выполняется; дождитесь её окончания."))
        return redirect("collection:upload", pk=pk)
    return _upload_form_page(request, corrects=corrects)


@require_POST
@uploader_required
def upload_valid_rows(request, pk: int):
    """Import the valid rows of a rejected file: the same upload, enqueued again with «только верные строки»."""
    upload = get_object_or_404(Upload.objects.visible_to(request.user), pk=pk)
    stored = tasks.stored_path(upload)
    if upload.status != UploadStatus.REJECTED:
        messages.error(request, _("Загрузить только верные строки можно лишь для отклонённого файла."))
    elif stored is None or not stored.is_file():
        messages.error(request, _("Файл этой загрузки не сохранён на сервере; загрузите его снова."))
    else:
        role = acting_role(request)
        options = dict(upload.options or {}, valid_rows_only=True, dry_run=False,
                       role=role.pk if role is not None else None)
        if role is not None and role.organisation.kind == OrganisationKind.SCHOOL:
            options["school"] = role.organisation.code
        Upload.objects.filter(pk=upload.pk, status=UploadStatus.REJECTED).update(
            status=UploadStatus.RUNNING, stage=tasks.QUEUED, progress=0, message="", options=options,
            uploaded_by=request.user, finished_at=None,
        )
        upload.refresh_from_db()
        enqueue(upload)
    return redirect("collection:upload", pk=pk)


# --- an upload's page and its progress ---------------------------------------------------------------

def progress_context(upload: Upload) -> dict:
    state = tasks.read_progress(upload)
    running = upload.status == UploadStatus.RUNNING
    stage = state["stage"] if running else tasks.DONE
    return {
        "upload": upload, "running": running, "stage_title": STAGE_TITLES.get(stage, ""),
        "progress": state["progress"] if running else 100, "done": state["done"], "total": state["total"],
        "indeterminate": running and stage == tasks.READING,
    }


@role_required
def upload_progress(request, pk: int):
    """The polled part of an upload's page: one query. When the import is over, htmx reloads the page."""
    upload = get_object_or_404(
        Upload.objects.visible_to(request.user).only("pk", "status", "progress", "stage", "stored_file"), pk=pk)
    response = HttpResponse(render_to_string("collection/_upload_progress.html", progress_context(upload)))
    if upload.status != UploadStatus.RUNNING:
        response["HX-Refresh"] = "true"
    return response


def problem_table(problems: list[dict], title: str, sheet: str) -> Table:
    return Table(
        title=title, sheet=sheet, headers=[_("Файл"), _("Лист"), _("Строка"), _("Столбец"), _("Сообщение")],
        rows=[[p.get("file") or "", p.get("sheet") or "", p.get("row"), p.get("column") or "", p.get("message", "")]
              for p in problems],
        widths=[24, 14, 8, 18, 80],
    )


def count_items(counts: dict) -> list[tuple[str, object]]:
    """The figures of an upload's counts with their Russian names (those that are not zero; the number of
    rows always)."""
    return [(str(label), counts[key]) for key, label in COUNT_LABELS.items()
            if key in counts and isinstance(counts[key], int | float) and not isinstance(counts[key], bool)
            and (counts[key] or key == "rows")]


def count_summary(counts: dict, limit: int = 3) -> str:
    shown = count_items(counts)[:limit]
    return ", ".join(f"{label}: {value}" for label, value in shown)


def default_message(upload: Upload) -> str:
    """What an upload came to, for the uploads recorded without a message (by the command line)."""
    errors = sum(1 for p in upload.errors if p.get("severity", "error") == "error")
    if upload.status == UploadStatus.REJECTED:
        return _("В файле найдены ошибки: {count}. Ничего не загружено.").format(count=errors)
    if upload.status == UploadStatus.REPLACED:
        return _("Результаты этого файла заменены исправленной версией.")
    return upload.get_status_display().capitalize() + "."


@role_required
def upload_detail(request, pk: int):
    upload = get_object_or_404(
        Upload.objects.visible_to(request.user).select_related(
            "assessment", "organisation", "uploaded_by", "replaces", "duplicate_of"),
        pk=pk)
    visible = Upload.objects.visible_to(request.user)
    errors = [p for p in upload.errors if p.get("severity", "error") == "error"]
    warnings = [p for p in upload.errors if p.get("severity") == "warning"]
    error_table = problem_table(errors, _("Ошибки в файле"), _("Ошибки"))
    warning_table = problem_table(warnings, _("Предупреждения"), _("Предупреждения"))
    if wants_xlsx(request):
        return xlsx_response([t for t in (error_table, warning_table) if t.rows],
                             _("Ошибки загрузки {name}").format(name=Path(upload.file_name).stem))
    page = Paginator(error_table.rows, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    shown = Table(title=error_table.title, sheet=error_table.sheet, headers=error_table.headers,
                  rows=list(page.object_list))
    stored = tasks.stored_path(upload)
    has_file = stored is not None and stored.is_file()
    counts = upload.counts or {}
    context = {
        "current_stage": 1, "subnav": "history", "upload": upload, "can_upload": can_upload(request),
        "format_title": format_title(upload.format), "badge": STATUS_BADGES.get(upload.status, ""),
        "message": upload.message or default_message(upload),
        "nothing_imported": upload.status in (UploadStatus.REJECTED, UploadStatus.FAILED),
        "counts": [] if upload.duplicate_of_id else count_items(counts), "error_count": len(errors),
        "error_table": shown, "error_page": page, "warning_table": warning_table,
        "replaced_by": list(visible.filter(replaces=upload).only("pk", "file_name", "created_at")),
        "replaces": upload.replaces if upload.replaces_id and visible.filter(pk=upload.replaces_id).exists() else None,
        "duplicate_of": upload.duplicate_of if upload.duplicate_of_id and visible.filter(
            pk=upload.duplicate_of_id).exists() else None,
        "corrects": visible.filter(pk=(upload.options or {}).get("corrects") or 0).first(),
        "may_valid_rows": upload.status == UploadStatus.REJECTED and has_file and (
            counts.get("rows", 0) > counts.get("rows_rejected", 0)),
        "options": upload.options or {},
        **progress_context(upload),
    }
    return render(request, "collection/upload_status.html", context)


# --- history -----------------------------------------------------------------------------------------

@role_required
def upload_history(request):
    form = HistoryFilter(request.GET or None, user=request.user)
    uploads = Upload.objects.visible_to(request.user).select_related(
        "organisation", "uploaded_by", "assessment").defer("errors", "options").order_by("-created_at", "-pk")
    if form.is_valid():
        if form.cleaned_data.get("organisation"):
            uploads = uploads.filter(organisation__path__startswith=form.cleaned_data["organisation"].path)
        if form.cleaned_data.get("status"):
            uploads = uploads.filter(status=form.cleaned_data["status"])
    headers = [_("Когда"), _("Файл"), _("Формат"), _("Работа"), _("Организация"), _("Кто загрузил"), _("Состояние"),
               _("Итоги")]

    def row(upload: Upload) -> list:
        who = upload.uploaded_by.get_full_name() or upload.uploaded_by.username if upload.uploaded_by else "—"
        return [
            timezone.localtime(upload.created_at).strftime("%d.%m.%Y %H:%M"), upload.file_name,
            format_title(upload.format), upload.assessment.code if upload.assessment else "—",
            upload.organisation.short_name if upload.organisation else "—", who, upload.get_status_display(),
            count_summary(upload.counts or {}),
        ]

    if wants_xlsx(request):
        table = Table(title=_("История загрузок"), sheet=_("Загрузки"), headers=headers,
                      rows=[row(u) for u in uploads[:20000]], widths=[16, 30, 24, 18, 30, 22, 24, 50])
        return xlsx_response([table], _("История загрузок"))
    page = Paginator(uploads, UPLOADS_PER_PAGE).get_page(request.GET.get("page"))
    listed = list(page.object_list)
    table = Table(title=_("История загрузок"), sheet=_("Загрузки"), headers=headers, rows=[row(u) for u in listed])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "collection/uploads.html", {
        "current_stage": 1, "subnav": "history", "form": form, "page": page, "table": table,
        "rows": [{"upload": u, "link": reverse("collection:upload", args=[u.pk]), "when": cells[0], "format": cells[2],
                  "assessment": cells[3], "organisation": cells[4], "who": cells[5],
                  "badge": STATUS_BADGES.get(u.status, ""), "summary": cells[7]}
                 for u, cells in zip(listed, table.rows, strict=True)],
        "query": query.urlencode(), "can_upload": can_upload(request),
    })


urlpatterns = [
    path("uploads/", upload_page, name="uploads"),
    path("uploads/history/", upload_history, name="upload_history"),
    path("uploads/<int:pk>/", upload_detail, name="upload"),
    path("uploads/<int:pk>/progress/", upload_progress, name="upload_progress"),
    path("uploads/<int:pk>/valid-rows/", upload_valid_rows, name="upload_valid_rows"),
    path("uploads/<int:pk>/replace/", upload_replace, name="upload_replace"),
]
