"""The one way a file gets into Metodist: `import_file()`. The CLI, the pages and the API call it.

    detect format ─► parse (importer module) ─► validate ─► one transaction ─► Upload with counts and errors

Results formats (ВПР form, ВПР regional export, exam protocol, long format) share the validation and
the writing of `collection.loading`; the other formats (registry, teachers, diagnostics, surveys,
attestations, olympiads, specifications) bring their own `validate_and_save`.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metodist.collection import loading
from metodist.collection.importers.base import FileRejected, Parsed, Problem, read_sheets
from metodist.collection.models import Upload, UploadStatus
from metodist.core.models import Organisation, OrganisationKind
from metodist.reference.models import Assessment

logger = logging.getLogger(__name__)

#: format name → module under collection.importers; the order is the order of detection
FORMATS = {
    "vpr-form": "vpr_form",
    "vpr-regional": "vpr_regional",
    "exam-protocol": "exam_protocol",
    "long": "long_format",
    "registry": "registry",
    "teachers": "teachers",
    "diagnostics": "diagnostics",
    "survey": "survey",
    "attestation": "attestation",
    "olympiad": "olympiad",
    "spec": "spec_xlsx",
    "federal-report": "federal_report",
}
RESULT_FORMATS = {"vpr-form", "vpr-regional", "exam-protocol", "long"}


@dataclass
class ImportOptions:
    format: str | None = None
    assessment: str | None = None
    school: str | None = None
    dry_run: bool = False
    valid_rows_only: bool = False
    create_organisations: bool = False
    acting_user: object = None
    progress: object = None  # callable(done, total)


@dataclass
class ImportOutcome:
    status: str
    format: str = ""
    file: str = ""
    upload: Upload | None = None
    counts: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (UploadStatus.IMPORTED, UploadStatus.IMPORTED_PARTLY, UploadStatus.CHECKED, "unchanged")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def as_dict(self) -> dict:
        return {
            "status": self.status, "format": self.format, "file": self.file,
            "upload": self.upload.pk if self.upload else None, "message": self.message,
            "counts": self.counts, "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.problems if p.severity == "warning"],
        }


def importer(format_name: str):
    return importlib.import_module(f"metodist.collection.importers.{FORMATS[format_name]}")


def available_formats() -> list[str]:
    names = []
    for name in FORMATS:
        try:
            importer(name)
        except ModuleNotFoundError:
            continue
        names.append(name)
    return names


def detect_format(sheets, file_name: str) -> str | None:
    best, best_score = None, 0
    for name in available_formats():
        score = importer(name).sniff(sheets)
        if score > best_score:
            best, best_score = name, score
    return best


def checksum_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_file(path, options: ImportOptions | None = None) -> ImportOutcome:
    """Import one file. Never raises for bad input: every problem is in the outcome.

    An unexpected failure (a full disk, a lost database connection, a bug) rolls the import's
    transaction back, is logged with its traceback for the administrator, and comes back as a failed
    outcome with a Russian message, not as a traceback for the user."""
    options = options or ImportOptions()
    path = Path(path)
    try:
        return _import_file(path, options)
    except Exception as exc:
        logger.exception("import of %s failed", path)
        message = _("Загрузка файла {name} прервана из-за внутренней ошибки ({error}); база данных не изменилась. "
                    "Сообщите администратору.").format(name=path.name, error=type(exc).__name__)
        outcome = ImportOutcome(status=UploadStatus.FAILED, file=path.name, format=options.format or "",
                                message=message, problems=[Problem(message, file=path.name)])
        try:
            with transaction.atomic():
                outcome.upload = Upload.objects.create(
                    file_name=path.name[:500], checksum="", format=options.format or "", status=UploadStatus.FAILED,
                    uploaded_by=options.acting_user, errors=[outcome.problems[0].as_dict()],
                )
        except Exception:  # the database itself may be what failed
            logger.exception("could not record the failed import of %s", path)
        return outcome


def _import_file(path: Path, options: ImportOptions) -> ImportOutcome:
    outcome = ImportOutcome(status=UploadStatus.REJECTED, file=path.name)
    try:
        sheets = read_sheets(path)
    except FileRejected as exc:
        outcome.problems.append(Problem(exc.message, file=path.name))
        outcome.message = exc.message
        return outcome
    format_name = options.format or detect_format(sheets, path.name)
    if format_name is None or format_name not in FORMATS:
        message = (_("Не удалось определить формат файла {name}. Укажите его явно.").format(name=path.name)
                   if format_name is None else _("Неизвестный формат «{format}».").format(format=format_name))
        outcome.problems.append(Problem(message, file=path.name))
        outcome.message = message
        return outcome
    outcome.format = format_name
    module = importer(format_name)
    checksum = checksum_of(path)
    if format_name in RESULT_FORMATS:
        return _import_results(path, sheets, module, format_name, checksum, options, outcome)
    return module.import_parsed(path, sheets, checksum=checksum, options=options, outcome=outcome)


def resolve_assessment(code: str | None, parsed: Parsed, module) -> Assessment | None:
    if code:
        assessment = Assessment.objects.filter(code=code.strip().lower()).first()
        if assessment is None:
            parsed.error(_("Работа с кодом «{code}» не найдена. Загрузите её спецификацию или проверьте код.").format(
                code=code))
        return assessment
    guess = getattr(module, "guess_assessment", None)
    assessment = guess(parsed) if guess else None
    if assessment is None and not parsed.errors:
        parsed.error(_("Не удалось определить, какая это работа. Укажите код работы, например vpr-2021-ma-5."))
    return assessment


def _import_results(path, sheets, module, format_name, checksum, options, outcome) -> ImportOutcome:
    school = None
    if options.school:
        school = Organisation.objects.filter(code=options.school, kind=OrganisationKind.SCHOOL).first()
        if school is None:
            message = _("Школа с кодом {code} не найдена.").format(code=options.school)
            outcome.problems.append(Problem(message, file=path.name))
            outcome.message = message
            return outcome
    preliminary = Parsed(format=format_name, file=path.name)
    assessment = None
    if options.assessment:
        assessment = resolve_assessment(options.assessment, preliminary, module)
        if assessment is None:
            outcome.problems = preliminary.problems
            outcome.message = preliminary.problems[0].message
            return outcome
    parsed = module.parse(path, sheets, assessment=assessment)
    if assessment is None:
        assessment = resolve_assessment(None, parsed, module)
        if assessment is None:
            outcome.problems = parsed.problems
            outcome.message = parsed.errors[0].message
            return outcome
    previous = loading.find_previous(assessment, checksum)
    if previous is not None and not options.dry_run:
        outcome.status, outcome.upload = "unchanged", previous
        outcome.counts = dict(previous.counts, works_imported=0, unchanged=True)
        outcome.message = _("Этот файл уже загружен ({when}); ничего не изменилось.").format(
            when=timezone.localtime(previous.created_at).strftime("%d.%m.%Y %H:%M"))
        return outcome
    plan = loading.validate_results(
        parsed, assessment, school=school, create_organisations=options.create_organisations,
        acting_user=options.acting_user,
    )
    outcome.problems = parsed.problems
    errors = parsed.errors
    outcome.counts = {
        "rows": len(parsed.rows), "rows_rejected": len(plan.rejected_rows), "works_imported": 0, "absent": 0,
        "organisations_created": 0,
    }
    importable = not plan.blocking and (not errors or options.valid_rows_only) and plan.rows
    if not importable:
        outcome.status = UploadStatus.REJECTED
        outcome.message = (_("В файле найдены ошибки: {count}. Ничего не загружено.").format(count=len(errors))
                           if errors else _("В файле нет строк с результатами."))
        if not options.dry_run:
            upload = _new_upload(path, checksum, format_name, assessment, school, options)
            outcome.upload = loading.finish(upload, UploadStatus.REJECTED, outcome.counts, parsed.problems,
                                            options.acting_user)
        return outcome
    if options.dry_run:
        outcome.status = UploadStatus.CHECKED
        outcome.counts.update(works_imported=sum(1 for r in plan.rows if not r.absent),
                              absent=sum(1 for r in plan.rows if r.absent),
                              organisations_created=len(plan.new_schools))
        outcome.message = _("Проверка пройдена, файл не загружался (пробный запуск).")
        return outcome
    status = UploadStatus.IMPORTED_PARTLY if errors else UploadStatus.IMPORTED
    with transaction.atomic():
        upload = _new_upload(path, checksum, format_name, assessment, school, options)
        counts = loading.save_results(plan, upload, region_hint=parsed.meta.get("region", ("", "")),
                                      progress=options.progress)
        if len(plan.schools) == 1 and upload.organisation is None:
            upload.organisation = next(iter(plan.schools.values()))
        elif upload.organisation is None:
            upload.organisation = _common_parent([s for s in plan.schools.values() if s is not None])
        outcome.counts.update(counts)
        outcome.upload = loading.finish(upload, status, outcome.counts, parsed.problems, options.acting_user)
    loading.refresh_statistics()
    _announce(outcome.upload, assessment)
    outcome.status = status
    outcome.message = _("Загружено работ: {works}, отсутствовали: {absent}.").format(
        works=outcome.counts["works_imported"], absent=outcome.counts["absent"])
    return outcome


def _announce(upload: Upload, assessment: Assessment) -> None:
    """Tell the other stages that results were committed; a listener's failure never undoes the import
    (it is logged for the administrator)."""
    from metodist.collection.signals import results_imported

    for receiver, response in results_imported.send_robust(sender=Upload, upload=upload, assessment=assessment):
        if isinstance(response, Exception):
            logger.error("results_imported listener %s failed: %r", receiver, response)


def _new_upload(path, checksum, format_name, assessment, school, options) -> Upload:
    return Upload.objects.create(
        file_name=path.name, checksum=checksum, size=path.stat().st_size, format=format_name,
        assessment=assessment, organisation=school, uploaded_by=options.acting_user, status=UploadStatus.RUNNING,
    )


def _common_parent(organisations: list[Organisation]) -> Organisation | None:
    if not organisations:
        return None
    prefix = organisations[0].path
    for org in organisations[1:]:
        while not org.path.startswith(prefix):
            prefix = prefix[: prefix.rstrip("/").rfind("/") + 1]
            if not prefix:
                return None
    ids = [int(step) for step in prefix.strip("/").split("/") if step]
    return Organisation.objects.filter(pk=ids[-1]).first() if ids else None
