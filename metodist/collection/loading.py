"""Results into the database: validate the rows of any results importer against the assessment's spec,
then write them in one transaction, replacing the previous results of the same schools.

    parsed rows ──► validate_results() ──► problems (file, sheet, row, column, Russian message)
                                      └──► save_results()  one transaction: all or nothing
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from metodist.collection.importers.base import Parsed, Problem
from metodist.collection.models import ScoreStatus, TaskScore, Upload, UploadStatus, Work
from metodist.collection.results import ResultRow, class_letter
from metodist.core.models import (
    AcademicYear,
    AuditEntry,
    Organisation,
    OrganisationKind,
    Pupil,
    SchoolClass,
    TeachingAssignment,
    pseudonym,
)
from metodist.reference.models import Assessment, ScaleKind

BATCH = 5000
Progress = Callable[[int, int], None]


@dataclass
class ResultsPlan:
    """What validation decided: the rows to write, the schools they belong to, and what was rejected."""

    assessment: Assessment
    rows: list[ResultRow] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    blocking: bool = False  # a problem of the whole file (header, spec): nothing can be imported
    schools: dict[str, Organisation | None] = field(default_factory=dict)
    new_schools: dict[str, ResultRow] = field(default_factory=dict)
    marks: dict[int, int | None] = field(default_factory=dict)
    primaries: dict[int, int | None] = field(default_factory=dict)


def validate_results(
    parsed: Parsed,
    assessment: Assessment,
    *,
    school: Organisation | None = None,
    create_organisations: bool = False,
    acting_user=None,
) -> ResultsPlan:
    """Check every row against the spec and the registry; problems are added to `parsed`."""
    plan = ResultsPlan(assessment=assessment)
    tasks = {t.number: t for t in assessment.tasks.all()}
    sheet = parsed.meta.get("sheet", "")
    header_row = parsed.meta.get("header_row")
    _check_task_columns(parsed, tasks, sheet, header_row, plan)
    mark_scale = test_scale = None
    for scale in assessment.scales.all():
        if scale.kind == ScaleKind.MARK:
            mark_scale = scale
        elif scale.kind == ScaleKind.TEST_SCORE:
            test_scale = scale

    row_errors: dict[int, int] = defaultdict(int)
    for problem in parsed.errors:
        if problem.row and problem.row != header_row:
            row_errors[problem.row] += 1

    def error(row: ResultRow, message: str, column: str = "") -> None:
        parsed.problems.append(Problem(message=message, file=parsed.file, sheet=row.sheet, row=row.row, column=column))
        row_errors[row.row] += 1

    _resolve_schools(parsed, plan, school, create_organisations, acting_user)
    seen: dict[tuple, int] = {}
    for row in parsed.rows:
        if school is not None and not row.school_code:
            row.school_code = school.code
        key = (row.school_code, row.participant_code) if not row.identity else row.identity
        if row.participant_code or row.identity:
            if key in seen:
                error(row, _("Участник {code} уже встречается в строке {first}.").format(
                    code=row.participant_code or "", first=seen[key]))
            else:
                seen[key] = row.row
        if assessment.variants and row.variant is not None and row.variant not in assessment.variants:
            error(row, _("Варианта {variant} нет в работе {work}: есть варианты {variants}.").format(
                variant=row.variant, work=assessment.code, variants=", ".join(map(str, assessment.variants))))
        if row.absent:
            if any(s.status not in ("blank",) for s in row.scores):
                error(row, _("Участник отмечен как отсутствовавший, но у него стоят баллы за задания."))
            plan.primaries[row.row] = None
            plan.marks[row.row] = None
            continue
        total = 0
        for cell in row.scores:
            task = tasks.get(cell.task)
            if task is None or cell.status == "invalid":
                continue
            if cell.status == "blank":
                error(row, _("Не указан балл за задание {task}. Если ответа нет, поставьте X.").format(task=cell.task),
                      cell.column)
            elif cell.score < 0:
                error(row, _("Балл за задание {task} ({score}) отрицательный.").format(task=cell.task, score=cell.score),
                      cell.column)
            elif cell.score > task.max_score:
                error(row, _("Балл за задание {task} ({score}) больше максимального ({max}).").format(
                    task=cell.task, score=cell.score, max=task.max_score), cell.column)
            else:
                total += cell.score
        plan.primaries[row.row] = total
        if row.primary_score is not None and row.primary_score != total:
            # The total of a form is a spreadsheet formula, and real forms have formulas that skip a
            # column: the task scores are the data, the total is recomputed from them.
            parsed.problems.append(Problem(
                _("Итоговый балл в файле ({written}) не равен сумме баллов за задания ({total}); принята сумма "
                  "баллов за задания.").format(written=row.primary_score, total=total),
                file=parsed.file, sheet=row.sheet, row=row.row, column=row.primary_column, severity="warning"))
        computed = mark_scale.convert(total) if mark_scale else None
        if row.mark is not None and mark_scale is not None and not mark_scale.allows(total, row.mark):
            if computed is not None:
                message = _("Отметка {mark} не соответствует первичному баллу {total}: по шкале перевода это "
                            "отметка {computed}.").format(mark=row.mark, total=total, computed=computed)
            else:
                message = _("Отметка {mark} не соответствует первичному баллу {total} по шкале перевода.").format(
                    mark=row.mark, total=total)
            error(row, message, row.mark_column)
        plan.marks[row.row] = computed if computed is not None else row.mark
        if test_scale and row.test_score is not None:
            expected = test_scale.convert(total)
            if expected is not None and expected != row.test_score:
                error(row, _("Тестовый балл {score} не соответствует первичному баллу {total} (по шкале: "
                             "{expected}).").format(score=row.test_score, total=total, expected=expected))
    for row in parsed.rows:
        if row_errors.get(row.row):
            plan.rejected_rows.add(row.row)
        else:
            plan.rows.append(row)
    return plan


def _check_task_columns(parsed: Parsed, tasks: dict, sheet: str, header_row: int | None, plan: ResultsPlan) -> None:
    in_file = parsed.meta.get("tasks", [])
    numbers = {number for number, _m, _h in in_file}
    for number, maximum, header in in_file:
        task = tasks.get(number)
        if task is None:
            parsed.problems.append(Problem(
                _("Задания {task} нет в спецификации работы: проверьте, что выбрана верная работа.").format(task=number),
                file=parsed.file, sheet=sheet, row=header_row, column=header))
            plan.blocking = True
        elif maximum is not None and maximum != task.max_score:
            parsed.problems.append(Problem(
                _("В заголовке максимальный балл задания {task} равен {file_max}, а по спецификации — {spec_max}.").format(
                    task=number, file_max=maximum, spec_max=task.max_score),
                file=parsed.file, sheet=sheet, row=header_row, column=header))
            plan.blocking = True
    missing = [n for n in tasks if n not in numbers]
    if missing and in_file:
        parsed.problems.append(Problem(
            ngettext("В файле нет столбца задания {tasks}.", "В файле нет столбцов заданий {tasks}.", len(missing)).format(
                tasks=", ".join(missing)),
            file=parsed.file, sheet=sheet, row=header_row))
        plan.blocking = True


def _resolve_schools(parsed, plan, school, create_organisations, acting_user) -> None:
    codes: dict[str, ResultRow] = {}
    for row in parsed.rows:
        code = row.school_code or (school.code if school else "")
        if not code:
            parsed.problems.append(Problem(
                _("Не указана школа: в файле нет столбца школы, укажите её при загрузке."),
                file=parsed.file, sheet=row.sheet, row=row.row))
            continue
        if school is not None and row.school_code and row.school_code != school.code:
            parsed.problems.append(Problem(
                _("Строка относится к школе {code}, а загрузка — к школе {chosen}.").format(
                    code=row.school_code, chosen=school.code),
                file=parsed.file, sheet=row.sheet, row=row.row))
            continue
        codes.setdefault(code, row)
    known = {o.code: o for o in Organisation.objects.filter(code__in=list(codes))}
    visible = None
    if acting_user is not None and not acting_user.is_superuser:
        visible = set(Organisation.objects.visible_to(acting_user).filter(code__in=list(codes)).values_list(
            "code", flat=True))
    counts = defaultdict(int)
    for row in parsed.rows:
        counts[row.school_code] += 1
    for code, first in codes.items():
        organisation = known.get(code)
        if organisation is not None and organisation.kind != OrganisationKind.SCHOOL:
            parsed.problems.append(Problem(
                _("Код {code} принадлежит не школе, а организации «{name}».").format(code=code, name=organisation),
                file=parsed.file, sheet=first.sheet, row=first.row))
            organisation = None
        if organisation is None and code not in known:
            if create_organisations:
                plan.new_schools[code] = first
            else:
                parsed.problems.append(Problem(
                    ngettext(
                        "Школы с кодом {code} нет в реестре организаций ({count} строка). Загрузите реестр или "
                        "разрешите создать организации из файла.",
                        "Школы с кодом {code} нет в реестре организаций ({count} строки). Загрузите реестр или "
                        "разрешите создать организации из файла.",
                        counts[code]).format(code=code, count=counts[code]),
                    file=parsed.file, sheet=first.sheet, row=first.row))
        elif organisation is not None and visible is not None and code not in visible:
            parsed.problems.append(Problem(
                _("У вас нет прав загружать результаты школы {code}.").format(code=code),
                file=parsed.file, sheet=first.sheet, row=first.row))
            plan.blocking = True
        plan.schools[code] = organisation


def find_previous(assessment: Assessment, checksum: str) -> Upload | None:
    """An upload of the very same file whose results are still in place: importing it again changes nothing."""
    previous = (
        Upload.objects.filter(
            assessment=assessment, checksum=checksum, status__in=[UploadStatus.IMPORTED, UploadStatus.IMPORTED_PARTLY]
        ).order_by("-created_at").first()
    )
    if previous is None:
        return None
    # a later file may have replaced part of it (the results of some of its schools): then it is not
    # in place any more, and importing it again must bring those results back
    brought = previous.counts.get("works_imported", 0) + previous.counts.get("absent", 0)
    return previous if previous.works.count() == brought else None


def save_results(
    plan: ResultsPlan,
    upload: Upload,
    *,
    region_hint: tuple[str, str] = ("", ""),
    progress: Progress | None = None,
) -> dict:
    """Write the plan in the caller's transaction; return the counts."""
    assessment = plan.assessment
    year = AcademicYear.of_spring(assessment.year)
    created_orgs = _create_schools(plan, region_hint)
    schools = {code: org for code, org in plan.schools.items() if org is not None}
    rows = [r for r in plan.rows if r.school_code in schools]
    total = len(rows)

    previous_uploads = set(
        Work.objects.filter(assessment=assessment, school__in=schools.values()).values_list("upload_id", flat=True)
    )
    if previous_uploads:
        old_works = Work.objects.filter(assessment=assessment, school__in=schools.values())
        TaskScore.objects.filter(work__in=old_works).delete()
        old_works.delete()

    classes = _classes(rows, schools, year, assessment.grade)
    teachers = _teachers(classes.values(), assessment.subject_id)
    pupils = _pupils(rows, schools, assessment)
    tasks = {t.number: t.pk for t in assessment.tasks.all()}

    works, done = [], 0
    for row in rows:
        school = schools[row.school_code]
        school_class = None if _classless(row) else classes.get((row.school_code, _letter(row, assessment.grade)))
        works.append(Work(
            assessment=assessment,
            pupil_id=pupils[row.row],
            school=school,
            school_class=school_class,
            teacher_id=teachers.get(school_class.pk) if school_class else None,
            upload=upload,
            participant_code=row.participant_code[:32],
            variant=row.variant,
            absent=row.absent,
            primary_score=plan.primaries.get(row.row),
            mark=plan.marks.get(row.row),
            test_score=row.test_score,
            journal_mark=row.journal_mark,
        ))
    score_count = 0
    for start in range(0, len(works), BATCH):
        chunk = Work.objects.bulk_create(works[start:start + BATCH])
        scores = []
        for work, row in zip(chunk, rows[start:start + BATCH], strict=True):
            if row.absent:
                continue
            for cell in row.scores:
                task_id = tasks.get(cell.task)
                if task_id is None or cell.score is None:
                    continue
                scores.append((work.pk, task_id, cell.score, SCORE_STATUS.get(cell.status, ScoreStatus.SCORED)))
        insert_task_scores(scores)
        score_count += len(scores)
        done += len(chunk)
        if progress:
            progress(done, total)

    emptied = []
    if previous_uploads:
        replaced = Upload.objects.filter(pk__in=previous_uploads).exclude(pk=upload.pk)
        emptied = [u.pk for u in replaced if not u.works.exists()]
    if emptied:
        Upload.objects.filter(pk__in=emptied).update(status=UploadStatus.REPLACED)
        upload.replaces_id = max(emptied)
    return {
        "works_imported": sum(1 for r in rows if not r.absent),
        "absent": sum(1 for r in rows if r.absent),
        "task_scores": score_count,
        "organisations_created": created_orgs,
        "schools": len(schools),
        "replaced_uploads": len(emptied),
    }


def _classless(row: ResultRow) -> bool:
    """An absent pupil listed without a class: no class is made up for him."""
    return row.absent and not row.class_label.strip()


SCORE_STATUS = {"no_answer": ScoreStatus.NO_ANSWER, "not_taught": ScoreStatus.NOT_TAUGHT}
TASK_SCORE_COLUMNS = ("work_id", "task_id", "score", "status")


def insert_task_scores(values: list[tuple[int, int, int, str]]) -> None:
    """Write task scores as plain tuples (work_id, task_id, score, status), in the caller's transaction:
    COPY on PostgreSQL, one executemany on SQLite. A region brings millions of them, and a model instance
    and an INSERT compiled by the ORM cost more per score than the database does."""
    if not values:
        return
    table = connection.ops.quote_name(TaskScore._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in TASK_SCORE_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(TASK_SCORE_COLUMNS))})", values)


def _letter(row: ResultRow, grade: int) -> str:
    return class_letter(row.class_label, grade, ordinal=row.class_is_ordinal)


def _create_schools(plan: ResultsPlan, region_hint: tuple[str, str]) -> int:
    if not plan.new_schools:
        return 0
    region, region_created = _region(region_hint)
    created = int(region_created)
    municipalities: dict[str, Organisation] = {}
    for code, row in plan.new_schools.items():
        parent = region
        if row.municipality_code or row.municipality_name:
            key = row.municipality_code or row.municipality_name
            parent = municipalities.get(key)
            if parent is None:
                parent = Organisation.objects.filter(code=row.municipality_code).first() if row.municipality_code else (
                    Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY, short_name=row.municipality_name).first()
                )
                if parent is None:
                    parent = Organisation.objects.create(
                        kind=OrganisationKind.MUNICIPALITY,
                        code=row.municipality_code or _generated_code("mun", row.municipality_name),
                        short_name=row.municipality_name or row.municipality_code,
                        full_name=row.municipality_name, parent=region,
                    )
                    created += 1
                municipalities[key] = parent
        plan.schools[code] = Organisation.objects.create(
            kind=OrganisationKind.SCHOOL, code=code, short_name=row.school_name or code,
            full_name=row.school_name, parent=parent,
        )
        created += 1
    return created


def _generated_code(prefix: str, name: str) -> str:
    import hashlib

    return f"{prefix}-{hashlib.sha1(name.encode()).hexdigest()[:10]}"


def _region(region_hint: tuple[str, str]) -> tuple[Organisation, bool]:
    """The region the file names (by code, else by name), the only region there is, or a new one."""
    code, name = region_hint
    if code:
        region = Organisation.objects.filter(code=code).first()
        if region:
            return region, False
    if name:
        region = Organisation.objects.filter(kind=OrganisationKind.REGION).filter(
            Q(short_name=name) | Q(full_name=name)).first()
        if region:
            return region, False
    regions = list(Organisation.objects.filter(kind=OrganisationKind.REGION)[:2])
    if len(regions) == 1 and not code:
        return regions[0], False
    return Organisation.objects.create(
        kind=OrganisationKind.REGION, code=code or "region", short_name=name or _("Регион"), full_name=name
    ), True


def _classes(rows, schools, year, grade) -> dict[tuple[str, str], SchoolClass]:
    wanted = {(r.school_code, _letter(r, grade)) for r in rows if not _classless(r)}
    result = {}
    existing = SchoolClass.objects.filter(
        school__in=schools.values(), academic_year=year, grade=grade
    ).select_related("school")
    for school_class in existing:
        result[(school_class.school.code, school_class.letter)] = school_class
    for code, letter in sorted(wanted):
        if (code, letter) not in result:
            result[(code, letter)] = SchoolClass.objects.create(
                school=schools[code], academic_year=year, grade=grade, letter=letter
            )
    return result


def _teachers(classes, subject_id) -> dict[int, int]:
    """The teacher of each class in the assessment's subject, when exactly one is assigned."""
    found: dict[int, set[int]] = defaultdict(set)
    for class_id, teacher_id in TeachingAssignment.objects.filter(
        school_class__in=[c.pk for c in classes], subject_id=subject_id
    ).values_list("school_class_id", "teacher_id"):
        found[class_id].add(teacher_id)
    return {class_id: next(iter(ids)) for class_id, ids in found.items() if len(ids) == 1}


def pupil_identity(row: ResultRow, assessment: Assessment) -> tuple:
    """Without names (ВПР), a pupil is his participant code in his school in the year of the work."""
    if row.identity:
        return row.identity
    return ("participant", row.school_code, assessment.year, row.participant_code)


def _pupils(rows, schools, assessment) -> dict[int, int]:
    keys = {row.row: pseudonym(*pupil_identity(row, assessment)) for row in rows}
    existing: dict[str, int] = {}
    values = list(set(keys.values()))
    for start in range(0, len(values), BATCH):
        existing.update(Pupil.objects.filter(pseudonym__in=values[start:start + BATCH]).values_list("pseudonym", "pk"))
    new = {}
    for row in rows:
        key = keys[row.row]
        if key not in existing and key not in new:
            new[key] = Pupil(pseudonym=key, school=schools[row.school_code], gender=row.gender)
    for created in Pupil.objects.bulk_create(list(new.values()), batch_size=BATCH):
        existing[created.pseudonym] = created.pk
    return {row_no: existing[key] for row_no, key in keys.items()}


def finish(upload: Upload, status: str, counts: dict, problems: list[Problem], acting_user=None) -> Upload:
    upload.status = status
    upload.counts = counts
    upload.errors = [p.as_dict() for p in problems]
    upload.finished_at = timezone.now()
    upload.save()
    AuditEntry.objects.create(
        user=acting_user, action=f"import:{status}", object_type="upload", object_id=str(upload.pk),
        organisation=upload.organisation, details={"file": upload.file_name, "counts": counts},
    )
    return upload


#: ANALYZE a results table when more than this share of its rows changed since its last statistics (the
#: threshold PostgreSQL's autovacuum uses by default), plus a floor so that small tables are left alone
STALE_SHARE = 0.1
STALE_FLOOR = 5_000


def refresh_statistics() -> list[str]:
    """On PostgreSQL, bring the planner's statistics of the works and task scores up to date when an import
    has changed much of them since they were last gathered; returns the tables analysed.

    Autovacuum does this in the background where it is on, a minute or more later; where it is off or
    behind, a region's reports are planned for the few thousand rows the table held before the import (a
    standard report read 28 s instead of 1 s). One look-up in pg_stat_user_tables per import; the ANALYZE
    itself samples the table (a fraction of a second at a region's 5 million task scores), and the more
    the table holds, the rarer it is needed."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    tables = [Work._meta.db_table, TaskScore._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND n_mod_since_analyze > %s + %s * greatest(n_live_tup, 0)",
            [tables, STALE_FLOOR, STALE_SHARE])
        stale = [name for (name,) in cursor.fetchall()]
        for name in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
    return stale
