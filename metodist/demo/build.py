"""`metodist demo`: the demonstration municipality, loaded the way a real one is.

    make_world (schools, pupils, teachers, planted truth) ─► specifications (shipped or demo copies)
    ─► results drawn per work ─► files in <data>/demo/files ─► the real importers (import_file)
    ─► associations, the club and the demo users (ORM) ─► <data>/demo/truth.json and a summary

The same seed gives the same files byte for byte, so running the command again imports nothing new
(every file reports "unchanged"). What is planted and how it is measured: docs/demo.md.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from metodist.demo import activities, files
from metodist.demo.results import WorkResults, score_work, solve_rate
from metodist.demo.specs import SpecInfo, ensure_spec
from metodist.demo.world import (
    COURSE,
    INSTITUTE,
    METHOD_SERVICE,
    MUNICIPALITY,
    REGION,
    YEARS,
    World,
    make_world,
)

VPR_WORKS = [("ma", 4), ("ru", 4), ("ma", 5), ("ru", 5), ("ma", 6), ("ru", 6), ("ma", 7)]
EXAMS = [("OGE", "ma", 9), ("OGE", "ru", 9), ("EGE", "ma", 11)]
SITE = "http://127.0.0.1:8000"
ROLES = ["region_admin", "methodologist", "school_admin", "association_head", "teacher", "viewer"]


class DemoError(SystemExit):
    """The demo could not be loaded; the message says which file and why. A SystemExit, so the command
    ends with this message (exit status 1) and no traceback."""


def build_demo(seed: int = 2026, echo=print, *, scale: int | None = None, data_dir: Path | None = None) -> str:
    """Create (or bring up to date) the demo municipality; return a summary with how to log in.

    `scale` keeps only that many schools (at least 8: every planted truth lives in the first eight);
    tests use it to stay fast."""
    from metodist.reference.specs import ensure_shipped_specs

    if scale is not None and scale < 8:
        raise DemoError(_("Для демонстрации нужно не меньше 8 школ: в них заложены все известные эффекты."))
    started = time.monotonic()
    root = Path(data_dir or settings.DATA_DIR) / "demo"
    folder = root / "files"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ensure_shipped_specs()

    def say(message: str) -> None:
        echo(f"[{time.monotonic() - started:5.1f} с] {message}")

    world = make_world(seed, scale)
    say(_("Муниципалитет: школ {schools}, учителей {teachers}, обучающихся в {year} учебном году {pupils}.").format(
        schools=len(world.schools), teachers=len(world.teachers), year=f"{YEARS[-1]}/{YEARS[-1] + 1}",
        pupils=sum(len(v) for v in world.rosters[YEARS[-1]].values())))
    specs = _specs()
    say(_("Спецификаций работ: {count}, из них демонстрационных: {demo}.").format(
        count=len(specs), demo=sum(1 for s in specs.values() if s.demo_copy_of)))
    results = {code: score_work(world, spec) for code, spec in specs.items()}
    element_names = _element_names(specs)
    rng = np.random.default_rng([seed, 7])
    generated = _write_files(world, results, element_names, rng, folder)
    say(_("Файлы записаны в {folder}: {count}.").format(
        folder=folder, count=sum(len(v) for k, v in generated.items() if k != "diagnostic_rows")))

    tally: Counter = Counter()
    for step, paths, options in _import_plan(generated):
        for path, extra in paths:
            outcome = _import(path, **options, **extra)
            tally[outcome.status] += 1
        say(_("Загружено: {step}, файлов: {count}.").format(step=step, count=len(paths)))
    users = _communities_and_users(world)
    say(_("Методические объединения, Клуб «ЛИДЕР» и демонстрационные пользователи созданы."))
    truth = plant_report(world, results, specs, generated["diagnostic_rows"][0])
    truth["seed"], truth["scale"], truth["users"] = seed, scale, users
    (root / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2), encoding="utf-8")
    say(_("Заложенные эффекты записаны в {path}.").format(path=root / "truth.json"))
    return summary(tally, root / "truth.json", time.monotonic() - started)


# --- specifications and files -------------------------------------------------------------------


def _specs() -> dict[str, SpecInfo]:
    specs = {}
    for year in YEARS:
        spring = year + 1
        for subject, grade in VPR_WORKS:
            spec = ensure_spec("VPR", spring, subject, grade)
            specs[spec.code] = spec
        for programme, subject, grade in EXAMS:
            spec = ensure_spec(programme, spring, subject, grade)
            specs[spec.code] = spec
    return specs


def _element_names(specs: dict[str, SpecInfo]) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    for spec in specs.values():
        for code, name in spec.element_names.items():
            names.setdefault(spec.codifier, {}).setdefault(code, name)
    return names


def _write_files(world: World, results: dict[str, WorkResults], element_names, rng, folder: Path) -> dict:
    out: dict[str, list] = {}
    out["registry"] = [files.registry(world, folder / "registry.xlsx")]
    out["teachers"] = [files.teachers(world, folder / "teachers.xlsx")]
    out["vpr"], out["exams"] = [], []
    for code, work in results.items():
        if work.spec.programme == "VPR":
            for school in world.schools:
                if not any(r.school is school for r in work.rows):
                    continue
                suffix = "csv" if school.layout == "csv" else "xlsx"
                path = folder / "vpr" / str(work.spec.year) / code / f"{school.code}.{suffix}"
                out["vpr"].append((files.vpr_form(work, school, world, path), code, school.code))
        else:
            out["exams"].append((files.exam_protocol(work, world, folder / "exams" / f"{code}.xlsx"), code))
    diag_rows = activities.diagnostics(world, element_names, rng)
    out["diagnostic_rows"] = [diag_rows]
    out["diagnostics"] = [files.table(folder / "diagnostics-2024.xlsx", [
        "Код школы", "ФИО", "Код учителя", "Предмет", "Диагностика", "Дата", "Тема", "Код КЭС", "Кодификатор",
        "Область компетенций", "Балл", "Максимум"], diag_rows, "Диагностика")]
    out["attestations"] = [
        files.table(folder / f"attestation-{year}-{year + 1}.xlsx", [
            "Код школы", "ФИО", "Код учителя", "Дата", "Категория", "Область компетенций", "Затруднение",
            "Заключение"], rows, "Аттестация")
        for year, rows in activities.attestations(world, element_names, rng).items() if rows]
    surveys = activities.course_surveys(world, rng)
    out["surveys"] = [
        files.write_xlsx(folder / "surveys" / "course-pre.xlsx", {"Анкета": surveys["course-pre"]}),
        files.write_xlsx(folder / "surveys" / "course-final.xlsx", {"Анкета": surveys["course-final"]}),
        files.write_xlsx(folder / "surveys" / "teachers-difficulties.xlsx",
                         {"Анкета": activities.municipal_survey(world, rng)}),
    ]
    out["olympiads"] = [
        files.table(folder / f"olympiad-{year}-{year + 1}.xlsx", [
            "Код школы", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Предмет", "Учебный год", "Этап",
            "Статус", "Балл", "Максимальный балл"], rows, "ВсОШ")
        for year, rows in activities.olympiads(world, rng).items()]
    return out


def _import_plan(generated: dict):
    yield _("реестр организаций"), [(p, {}) for p in generated["registry"]], {"format": "registry"}
    yield _("учителя и нагрузка"), [(p, {}) for p in generated["teachers"]], {"format": "teachers"}
    yield (_("формы ВПР"), [(p, {"assessment": code, "school": school}) for p, code, school in generated["vpr"]],
           {"format": "vpr-form"})
    yield _("протоколы ОГЭ и ЕГЭ"), [(p, {"assessment": code}) for p, code in generated["exams"]], {
        "format": "exam-protocol"}
    yield _("диагностики учителей"), [(p, {}) for p in generated["diagnostics"]], {"format": "diagnostics"}
    yield _("аттестации"), [(p, {}) for p in generated["attestations"]], {"format": "attestation"}
    yield _("анкетирования"), [(p, {}) for p in generated["surveys"]], {"format": "survey"}
    yield _("олимпиады"), [(p, {}) for p in generated["olympiads"]], {"format": "olympiad"}


def _import(path: Path, **options):
    from metodist.collection.importing import ImportOptions, import_file

    outcome = import_file(path, ImportOptions(**options))
    if not outcome.ok:
        problems = "; ".join(str(p) for p in outcome.errors[:5])
        raise DemoError(_("Файл {path} не загружен ({status}): {message} {problems}").format(
            path=path, status=outcome.status, message=outcome.message, problems=problems))
    return outcome


# --- associations, the club, users --------------------------------------------------------------


def _group(teacher) -> str:
    return "primary" if teacher.place[0] == "primary" else teacher.subjects[0]


GROUP_NAMES = {"ma": ("учителей математики", ["ma"]), "ru": ("учителей русского языка и литературы", ["ru"]),
               "primary": ("учителей начальных классов", ["ru", "ma"])}


@transaction.atomic
def _communities_and_users(world: World) -> list[dict]:
    from metodist.core.models import (
        AssociationScope,
        MethodAssociation,
        Organisation,
        SubjectClub,
        Teacher,
    )
    from metodist.reference.specs import subject as subject_of

    orgs = {o.code: o for o in Organisation.objects.filter(code__in=[
        REGION[0], MUNICIPALITY[0], METHOD_SERVICE[0], INSTITUTE[0], *[s.code for s in world.schools]])}
    stored = {(t.school.code, t.code): t for t in Teacher.objects.filter(
        school__code__in=[s.code for s in world.schools]).select_related("school")}
    planted = {d["teacher"].code for d in world.deficits}
    rank = {"высшая": 0, "первая": 1, "соответствие": 2, "без категории": 3}

    def best(candidates):
        fit = [t for t in candidates if t.code not in planted] or list(candidates)
        return min(fit, key=lambda t: (rank[t.category], -t.experience, t.code))

    heads = {}
    for group, (words, subjects) in GROUP_NAMES.items():
        members = [t for t in world.teachers if _group(t) == group]
        if not members:
            continue
        head = best(members)
        heads[group] = head
        _association(MethodAssociation, f"ГМО {words}", AssociationScope.MUNICIPALITY, orgs[MUNICIPALITY[0]],
                     [subject_of(s) for s in subjects], stored[(head.school.code, head.code)],
                     [stored[(t.school.code, t.code)] for t in members])
        for school in world.schools:
            own = [t for t in members if t.school is school]
            if school.letters < 2 or len(own) < 2:
                continue
            school_head = best(own)
            _association(MethodAssociation, f"ШМО {words} {school.short_name}", AssociationScope.SCHOOL,
                         orgs[school.code], [subject_of(s) for s in subjects],
                         stored[(school_head.school.code, school_head.code)],
                         [stored[(t.school.code, t.code)] for t in own])
    leaders = list(heads.values())
    for group in GROUP_NAMES:
        others = sorted((t for t in world.teachers if _group(t) == group and t not in leaders
                         and t.code not in planted), key=lambda t: (rank[t.category], -t.skill, t.code))
        leaders += others[:2]
    club, _created = SubjectClub.objects.update_or_create(
        name="Клуб «ЛИДЕР»", organisation=orgs[METHOD_SERVICE[0]],
        defaults={"subject": None, "head": stored[(heads["ma"].school.code, heads["ma"].code)]})
    club.members.set([stored[(t.school.code, t.code)] for t in leaders])
    return _users(world, orgs, stored, heads["ma"])


def _association(model, name, scope, organisation, subjects, head, members) -> None:
    association, _created = model.objects.update_or_create(
        name=name, organisation=organisation, defaults={"scope": scope, "head": head})
    association.subjects.set(subjects)
    association.members.set(members)


def demo_users(world: World, association_head) -> list[dict]:
    """Who logs in to the demo, with which role, where, and with which password."""
    planted = world.deficits[0]["teacher"]
    school = planted.school
    return [
        {"username": "admin", "password": "demo-admin", "role": "superuser", "organisation": "",
         "note": "суперпользователь: видит всё"},
        {"username": "region_admin", "password": "demo-region_admin", "role": "region_admin",
         "organisation": REGION[0], "note": REGION[1]},
        {"username": "methodologist", "password": "demo-methodologist", "role": "methodologist",
         "organisation": MUNICIPALITY[0], "note": MUNICIPALITY[1]},
        {"username": "school_admin", "password": "demo-school_admin", "role": "school_admin",
         "organisation": school.code, "note": school.short_name},
        {"username": "association_head", "password": "demo-association_head", "role": "association_head",
         "organisation": association_head.school.code, "teacher": association_head.code,
         "note": f"руководитель ГМО учителей математики, {association_head.school.short_name}"},
        {"username": "teacher", "password": "demo-teacher", "role": "teacher", "organisation": school.code,
         "teacher": planted.code, "note": f"учитель {planted.code}, {school.short_name}"},
        {"username": "viewer", "password": "demo-viewer", "role": "viewer", "organisation": MUNICIPALITY[0],
         "note": MUNICIPALITY[1]},
    ]


def _users(world: World, orgs, stored, association_head) -> list[dict]:
    from django.contrib.auth.models import Group, Permission, User

    from metodist.core.models import RoleAssignment

    viewers, _created = Group.objects.get_or_create(name="Демонстрация: просмотр")
    viewers.permissions.set(Permission.objects.filter(
        codename__startswith="view_", content_type__app_label__in=["core", "collection", "reference"]))
    users = demo_users(world, association_head)
    for item in users:
        user, _created = User.objects.get_or_create(username=item["username"])
        user.is_staff = True
        user.is_superuser = item["role"] == "superuser"
        if not user.has_usable_password() or not user.check_password(item["password"]):
            user.set_password(item["password"])
        user.save()
        if item["role"] == "superuser":
            continue
        user.groups.add(viewers)
        RoleAssignment.objects.filter(user=user).exclude(role=item["role"], organisation=orgs[item["organisation"]]) \
            .delete()
        RoleAssignment.objects.get_or_create(user=user, role=item["role"], organisation=orgs[item["organisation"]])
        if item.get("teacher"):
            teacher = stored[(item["organisation"], item["teacher"])]
            if teacher.user_id != user.pk:
                type(teacher).objects.filter(user=user).exclude(pk=teacher.pk).update(user=None)
                teacher.user = user
                teacher.save(update_fields=["user"])
    return users


# --- the planted truth, measured on the generated data -------------------------------------------


def _vpr_mean_pct(results: dict[str, WorkResults], spring: int) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for work in results.values():
        if work.spec.programme != "VPR" or work.spec.year != spring:
            continue
        for r in work.rows:
            if not r.absent:
                sums.setdefault(r.school.code, []).append(r.total / work.spec.max_primary)
    return {code: float(np.mean(v)) for code, v in sums.items()}


def _rank(values: dict[str, float], code: str) -> int:
    """1 = the lowest."""
    return sorted(values.values()).index(values[code]) + 1


def plant_report(world: World, results: dict[str, WorkResults], specs: dict[str, SpecInfo], diag_rows) -> dict:
    """truth.json: what was planted, with the figures it shows on the generated data."""
    report: dict = {
        "region": {"code": REGION[0], "name": REGION[1]},
        "municipality": {"code": MUNICIPALITY[0], "name": MUNICIPALITY[1]},
        "institute": INSTITUTE[0], "method_service": METHOD_SERVICE[0],
        "academic_years": [f"{y}/{y + 1}" for y in YEARS],
        "schools": [{"code": s.code, "name": s.short_name, "type": s.kind, "social_index": s.iss, "rural": s.rural,
                     "growth_point": s.growth_point, "role": s.role or None} for s in world.schools],
        "works": sorted(specs),
    }
    diag = {(row[2], row[4], row[7]): (row[9], row[10]) for row in diag_rows}
    deficits = []
    for d in world.deficits:
        teacher = d["teacher"]
        years = []
        for spec in sorted(specs.values(), key=lambda s: s.year):
            tasks = spec.tasks_of(d["element"])
            if spec.family != d["codifier"] or not tasks:
                continue
            rows = results[spec.code].rows
            own, n_own = solve_rate(rows, spec, tasks, lambda r, t=teacher: r.teacher is t)
            rest, n_rest = solve_rate(rows, spec, tasks, lambda r, t=teacher: r.teacher is not t)
            years.append({"assessment": spec.code, "tasks": tasks, "class_solve_rate": round(own, 3),
                          "others_solve_rate": round(rest, 3), "works": n_own})
        title = next(t for t, _s, _d, codifier, _c, _w in activities.DIAGNOSTICS if codifier == d["codifier"])
        score, maximum = diag[(teacher.code, title, d["element"])]
        deficits.append({
            "school": teacher.school.code, "teacher": teacher.code, "teacher_name": teacher.full_name,
            "subject": d["subject"], "codifier": d["codifier"], "element": d["element"],
            "element_name": _element_name(specs, d["codifier"], d["element"]), "assessments": years,
            "diagnostic": {"title": title, "score": score, "max_score": maximum},
        })
    report["teacher_deficits"] = deficits

    by_year = {spring: _vpr_mean_pct(results, spring) for spring in (y + 1 for y in YEARS)}

    def school_figures(school):
        return {str(spring): {"mean_primary_pct": round(values[school.code], 3), "rank_from_bottom":
                              _rank(values, school.code), "schools": len(values)}
                for spring, values in by_year.items()}

    report["low_result_schools"] = [
        {"school": s.code, "name": s.short_name, "social_index": s.iss, "years": [f"{y}/{y + 1}" for y in YEARS],
         "vpr": school_figures(s)} for s in world.schools if s.role == "low"]
    resilient = next(s for s in world.schools if s.role == "resilient")
    isses = sorted(s.iss for s in world.schools)
    report["resilient_school"] = {"school": resilient.code, "name": resilient.short_name,
                                  "social_index": resilient.iss,
                                  "social_index_rank_from_bottom": isses.index(resilient.iss) + 1,
                                  "vpr": school_figures(resilient)}
    report["inflated_school"] = _inflation(world, results)
    report["course"] = _course(world, results, specs)
    return report


def _element_name(specs, codifier, code) -> str:
    for spec in specs.values():
        if spec.codifier == codifier and code in spec.element_names:
            return spec.element_names[code]
    return ""


def _inflation(world: World, results: dict[str, WorkResults]) -> dict:
    school = next(s for s in world.schools if s.role == "inflated")
    counts = {True: Counter(), False: Counter()}
    for work in results.values():
        if work.spec.programme != "VPR" or work.spec.scale is None:
            continue
        for r in work.rows:
            if r.absent:
                continue
            own = r.school is school
            if r.journal is not None and r.mark is not None:
                counts[own]["with_journal"] += 1
                counts[own]["journal_above"] += r.journal > r.mark
            for mark in (3, 4, 5):
                threshold = work.spec.scale[mark]
                if threshold - 2 <= r.total <= threshold + 1:
                    counts[own]["near"] += 1
                    counts[own]["just_above"] += r.total >= threshold
    def share(c, a, b):
        return round(c[a] / c[b], 3) if c[b] else None
    return {
        "school": school.code, "name": school.short_name, "social_index": school.iss,
        "journal_above_work_share": share(counts[True], "journal_above", "with_journal"),
        "others_journal_above_work_share": share(counts[False], "journal_above", "with_journal"),
        "just_above_threshold_share": share(counts[True], "just_above", "near"),
        "others_just_above_threshold_share": share(counts[False], "just_above", "near"),
        "note": "Среди работ с первичным баллом от порога отметки минус 2 до порога плюс 1 — доля работ "
                "с баллом не ниже порога (в норме около половины).",
    }


def _course(world: World, results: dict[str, WorkResults], specs: dict[str, SpecInfo]) -> dict:
    element = COURSE["element"]
    subject, grade = COURSE["codifier"].split("-")[1:]
    pre_spec = specs[f"vpr-{COURSE['academic_year'] + 1}-{subject}-{grade}"]
    post_spec = specs[f"vpr-{COURSE['academic_year'] + 2}-{subject}-{grade}"]
    tasks = pre_spec.tasks_of(element)

    def rate(spec, teachers) -> float:
        ids = {id(t) for t in teachers}
        value, _n = solve_rate(results[spec.code].rows, spec, tasks, lambda r: id(r.teacher) in ids)
        return value

    pool = list(world.course_candidates)
    comparison = []
    for teacher in world.course_participants:
        base = rate(pre_spec, [teacher])
        match = min(pool, key=lambda c: (abs(rate(pre_spec, [c]) - base), c.code))
        pool.remove(match)
        comparison.append(match)
    figures = {}
    for name, group in (("participants", world.course_participants), ("comparison", comparison)):
        pre, post = rate(pre_spec, group), rate(post_spec, group)
        figures[name] = {"pre": round(pre, 3), "post": round(post, 3), "change": round(post - pre, 3)}
    did = figures["participants"]["change"] - figures["comparison"]["change"]
    return {
        "title": COURSE["title"], "hours": COURSE["hours"], "provider": INSTITUTE[0],
        "academic_year": f"{COURSE['academic_year']}/{COURSE['academic_year'] + 1}",
        "starts": COURSE["starts"].isoformat(), "ends": COURSE["ends"].isoformat(), "subject": COURSE["subject"],
        "codifier": COURSE["codifier"], "element": element,
        "element_name": _element_name(specs, COURSE["codifier"], element), "tasks": tasks,
        "pre_assessment": pre_spec.code, "post_assessment": post_spec.code,
        "participants": [{"school": t.school.code, "teacher": t.code} for t in world.course_participants],
        "comparison": [{"school": t.school.code, "teacher": t.code} for t in comparison],
        "solve_rates": figures, "difference_in_differences": round(did, 3),
        "surveys": ["course-pre.xlsx (докурсовое)", "course-final.xlsx (итоговое)"],
    }


def summary(tally: Counter, truth_path: Path, seconds: float) -> str:
    from metodist.core.status import database_status

    status = database_status()
    lines = [
        "",
        _("Демонстрационный муниципалитет загружен за {seconds:.0f} с.").format(seconds=seconds),
        _("  Организации: {kinds}.").format(
            kinds=", ".join(f"{k}: {v}" for k, v in sorted(status["organisations"].items()))),
        _("  Учителя: {teachers}, обучающиеся (псевдонимы): {pupils}, работы: {works} (отсутствовали: {absent}), "
          "баллы за задания: {scores}, оценочные процедуры с результатами: {assessments}.").format(
            teachers=status["teachers"], pupils=status["pupils"], works=status["works"]["present"],
            absent=status["works"]["absent"], scores=status["task_scores"],
            assessments=status["assessments_with_results"]),
        _("  Файлы: {statuses}.").format(statuses=", ".join(f"{k}: {v}" for k, v in sorted(tally.items()))),
        _("  Известные эффекты (что должен найти анализ): {path}").format(path=truth_path),
        "",
        _("Сайт: {site}/  Вход в администрирование: {site}/admin/").format(site=SITE),
        _("  Пользователь        Пароль                   Роль"),
    ]
    for role in ["admin", *ROLES]:
        label = _("суперпользователь") if role == "admin" else role
        lines.append(f"  {role:<19} demo-{role:<19}    {label}")
    return "\n".join(lines)
