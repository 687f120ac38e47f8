"""Registry of organisations: region, municipalities, schools, institutes, methodological services and
education authorities, one row each, with their place in the tree.

    Код | Наименование | Полное наименование | Вид | Код вышестоящей | ИСС | Сельская | Точка роста | Тип

An organisation is identified by its code: a row with a known code updates that organisation (its names,
flags, index, and its parent: moving a school to another municipality moves it in the tree), a new code
creates one. A registry never deletes organisations (results refer to them); a corrected registry is
simply imported again and its rows win.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers import tabular
from metodist.collection.importers.base import CellError, Parsed, Sheet
from metodist.core.models import Organisation, OrganisationKind, SchoolType

FORMAT = "registry"

COLUMNS = {
    "code": ("Код", "Код организации", "Код ОО"),
    "short_name": ("Наименование", "Краткое наименование", "Название"),
    "full_name": ("Полное наименование", "Полное название"),
    "kind": ("Вид", "Вид организации"),
    "parent": ("Код вышестоящей", "Код вышестоящей организации", "Вышестоящая"),
    "social_index": ("ИСС", "Индекс социального благополучия"),
    "is_rural": ("Сельская",),
    "has_growth_point": ("Точка роста", "Центр «Точка роста»"),
    "school_type": ("Тип", "Тип школы"),
}
REQUIRED = frozenset({"code", "short_name", "kind"})

KINDS = {
    "регион": OrganisationKind.REGION, "субъект рф": OrganisationKind.REGION,
    "муниципалитет": OrganisationKind.MUNICIPALITY, "муниципальное образование": OrganisationKind.MUNICIPALITY,
    "мо": OrganisationKind.MUNICIPALITY,
    "школа": OrganisationKind.SCHOOL, "оо": OrganisationKind.SCHOOL,
    "образовательная организация": OrganisationKind.SCHOOL,
    "институт": OrganisationKind.INSTITUTE, "институт развития образования": OrganisationKind.INSTITUTE,
    "иро": OrganisationKind.INSTITUTE,
    "методическая служба": OrganisationKind.METHOD_SERVICE, "ммс": OrganisationKind.METHOD_SERVICE,
    "муниципальная методическая служба": OrganisationKind.METHOD_SERVICE,
    "орган управления": OrganisationKind.EDUCATION_AUTHORITY,
    "орган управления образованием": OrganisationKind.EDUCATION_AUTHORITY, "моуо": OrganisationKind.EDUCATION_AUTHORITY,
    "уо": OrganisationKind.EDUCATION_AUTHORITY,
}
KINDS.update({kind.value: kind for kind in OrganisationKind})
SCHOOL_TYPES = {
    "гимназия": SchoolType.GYMNASIUM, "лицей": SchoolType.LYCEUM, "сош": SchoolType.SECONDARY,
    "средняя": SchoolType.SECONDARY, "оош": SchoolType.BASIC, "основная": SchoolType.BASIC,
    "нош": SchoolType.PRIMARY, "начальная": SchoolType.PRIMARY, "другая": SchoolType.OTHER,
}
SCHOOL_TYPES.update({t.value: t for t in SchoolType})
FIELDS = ("kind", "short_name", "full_name", "social_index", "is_rural", "has_growth_point", "school_type")


@dataclass
class OrgRow:
    row: int
    code: str
    kind: str = ""
    short_name: str = ""
    full_name: str = ""
    parent: str = ""
    social_index: float | None = None
    is_rural: bool = False
    has_growth_point: bool = False
    school_type: str = ""


def sniff(sheets: list[Sheet]) -> int:
    return tabular.sniff_table(sheets, COLUMNS, REQUIRED)


def _read(table: tabular.Table, parsed: Parsed) -> list[OrgRow]:
    rows: list[OrgRow] = []
    first: dict[str, int] = {}
    sheet = table.sheet.name
    for line in table.rows():
        error = functools.partial(line.error, parsed)

        code = line.text("code")
        if not code:
            error(_("Не указан код организации."), "code")
            continue
        if len(code) > 64:
            error(_("Код организации длиннее 64 знаков: проверьте, что в столбце «Код» стоит код."), "code")
            continue
        record = OrgRow(row=line.line, code=code, short_name=line.text("short_name")[:255],
                        full_name=line.text("full_name")[:1000], parent=line.text("parent"))
        if code in first:
            error(_("Код {code} уже встречается в строке {first}.").format(code=code, first=first[code]), "code")
        else:
            first[code] = line.line
        if not record.short_name:
            error(_("Не указано наименование организации {code}.").format(code=code), "short_name")
        kind_raw = line.text("kind")
        try:
            record.kind = tabular.parse_choice(kind_raw, KINDS) or ""
        except CellError:
            record.kind = ""
        if not record.kind:
            error(_("Вид организации «{value}» не понят: ожидается регион, муниципалитет, школа, институт, "
                    "методическая служба или орган управления.").format(value=kind_raw), "kind")
        try:
            record.social_index = tabular.parse_number(line.get("social_index"))
        except CellError:
            error(_("ИСС «{value}» не является числом.").format(value=line.text("social_index")), "social_index")
        for name, label in (("is_rural", _("Сельская")), ("has_growth_point", _("Точка роста"))):
            try:
                setattr(record, name, tabular.parse_yes_no(line.get(name)))
            except CellError:
                error(_("В столбце «{column}» стоит «{value}»: ожидается «да» или «нет».").format(
                    column=table.column(name) or label, value=line.text(name)), name)
        type_raw = line.text("school_type")
        if type_raw:
            try:
                school_type = tabular.parse_choice(type_raw, SCHOOL_TYPES)
            except CellError:
                school_type = None
                error(_("Тип школы «{value}» не понят: ожидается гимназия, лицей, СОШ, ООШ, НОШ или другая.").format(
                    value=type_raw), "school_type")
            if school_type and record.kind and record.kind != OrganisationKind.SCHOOL:
                parsed.warning(_("Тип «{value}» указан не для школы и не учтён.").format(value=type_raw),
                               column=table.column("school_type"), sheet=sheet, row=line.line)
            elif school_type:
                record.school_type = school_type
        rows.append(record)
    return rows


def _check_tree(rows: list[OrgRow], table: tabular.Table, parsed: Parsed, user) -> dict[str, Organisation]:
    """Parents, kinds, cycles and rights; returns the organisations of the database the file names."""
    sheet = table.sheet.name
    in_file = {}
    for record in rows:
        in_file.setdefault(record.code, record)
    names = {r.code for r in rows} | {r.parent for r in rows if r.parent}
    existing = {o.code: o for o in Organisation.objects.filter(code__in=list(names))}
    parent_codes = dict(Organisation.objects.filter(code__in=list(names)).values_list("code", "parent__code"))
    visible = None
    if user is not None and not user.is_superuser:
        visible = {o.code: o for o in Organisation.objects.visible_to(user).filter(code__in=list(names))}

    def error(record: OrgRow, message: str, name: str) -> None:
        parsed.error(message, sheet=sheet, row=record.row, column=table.column(name))

    def kind_of(code: str) -> str:
        if code in in_file and in_file[code].kind:
            return in_file[code].kind
        return existing[code].kind if code in existing else ""

    def parent_of(code: str) -> str:
        if code in in_file:
            return in_file[code].parent
        if code not in existing:
            return ""
        parent = parent_codes.get(code)
        if parent is None:  # outside the names read: ask
            return Organisation.objects.filter(code=code).values_list("parent__code", flat=True).first() or ""
        return parent

    for record in rows:
        if in_file[record.code] is not record:
            continue
        if visible is not None:
            own = existing.get(record.code)
            allowed = (own is None or record.code in visible) and (
                (record.parent in visible) or (record.parent in in_file and record.parent not in existing)
                or (own is not None and not record.parent and record.code in visible)
            )
            if not allowed:
                error(record, _("У вас нет прав изменять организацию {code} или включать её в организацию "
                                "{parent}.").format(code=record.code, parent=record.parent or "—"), "code")
        if not record.parent:
            if record.kind and record.kind != OrganisationKind.REGION:
                if record.kind == OrganisationKind.SCHOOL:
                    message = _("У школы {code} не указан код вышестоящей организации (муниципалитета).")
                else:
                    message = _("У организации {code} не указан код вышестоящей организации.")
                error(record, message.format(code=record.code), "parent")
        elif record.parent == record.code:
            error(record, _("Организация {code} указана вышестоящей для самой себя.").format(code=record.code),
                  "parent")
            continue
        elif record.parent not in in_file and record.parent not in existing:
            if record.kind == OrganisationKind.REGION:
                parsed.warning(_("Вышестоящей организации {parent} нет в реестре; регион загружен как верхний "
                                 "уровень.").format(parent=record.parent), sheet=sheet, row=record.row,
                               column=table.column("parent"))
                record.parent = ""
            else:
                error(record, _("Вышестоящей организации с кодом {parent} нет ни в файле, ни в реестре.").format(
                    parent=record.parent), "parent")
            continue
        elif kind_of(record.parent) == OrganisationKind.SCHOOL:
            error(record, _("Вышестоящая организация {parent} — школа; школа не может включать другие "
                            "организации.").format(parent=record.parent), "parent")
            continue
        # a cycle: following the parents from this row comes back to it
        seen = [record.code]
        code = record.parent
        while code and len(seen) < 10000:
            if code in seen:
                chain = " → ".join([*seen[seen.index(code):], code])
                error(record, _("Организации образуют замкнутый круг подчинения: {chain}.").format(chain=chain),
                      "parent")
                break
            seen.append(code)
            code = parent_of(code)
    return existing


def _drop_orphans(rows: list[OrgRow], parsed: Parsed, table: tabular.Table) -> list[OrgRow]:
    """With valid rows only: a row whose parent row has errors cannot be placed either."""
    bad = tabular.rejected_rows(parsed, table.header_row)
    by_code = {r.code: r for r in rows}
    changed = True
    while changed:
        changed = False
        for record in rows:
            parent = by_code.get(record.parent)
            if record.row not in bad and parent is not None and parent.row in bad:
                parsed.error(_("Вышестоящая организация {parent} (строка {row}) не загружена из-за ошибок.").format(
                    parent=parent.code, row=parent.row), sheet=table.sheet.name, row=record.row,
                    column=table.column("parent"))
                bad.add(record.row)
                changed = True
    return rows


def _ordered(rows: list[OrgRow]) -> list[OrgRow]:
    """Parents before their children."""
    by_code = {r.code: r for r in rows}
    done: set[str] = set()
    result = []

    def visit(record: OrgRow, depth: int = 0) -> None:
        if record.code in done or depth > 10000:
            return
        parent = by_code.get(record.parent)
        if parent is not None and parent is not record:
            visit(parent, depth + 1)
        done.add(record.code)
        result.append(record)

    for record in rows:
        visit(record)
    return result


def _differs(record: OrgRow, org: Organisation | None, parent_code: str | None) -> bool:
    if org is None:
        return True
    if any(getattr(org, name) != getattr(record, name) for name in FIELDS):
        return True
    return (parent_code or "") != record.parent


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    table = tabular.find_table(sheets, COLUMNS, REQUIRED)
    if table is None:
        return tabular.reject_without_header(
            path, parsed, tabular.missing_columns_message(COLUMNS, REQUIRED, _("реестра организаций")),
            checksum=checksum, options=options, outcome=outcome)
    rows = _read(table, parsed)
    _check_tree(rows, table, parsed, options.acting_user)
    if options.valid_rows_only:
        _drop_orphans(rows, parsed, table)

    def unchanged(previous, good: list[OrgRow]) -> bool:
        codes = [r.code for r in good]
        current = {o.code: o for o in Organisation.objects.filter(code__in=codes).select_related("parent")}
        return not any(
            _differs(r, current.get(r.code), current[r.code].parent.code if r.code in current and
                     current[r.code].parent else None) for r in good)

    def save(upload, good: list[OrgRow]) -> dict:
        codes = {r.code for r in good} | {r.parent for r in good if r.parent}
        orgs = {o.code: o for o in Organisation.objects.filter(code__in=list(codes)).select_related("parent")}
        created = updated = moved = 0
        for record in _ordered(good):
            org = orgs.get(record.code)
            parent = orgs.get(record.parent) if record.parent else None
            if org is None:
                org = Organisation(code=record.code)
                created += 1
            elif not _differs(record, org, org.parent.code if org.parent else None):
                continue
            else:
                updated += 1
                if org.parent_id != (parent.pk if parent else None):
                    moved += 1
            for name in FIELDS:
                setattr(org, name, getattr(record, name))
            org.parent = parent
            org.save()
            orgs[record.code] = org
        regions = [o for o in orgs.values() if o.kind == OrganisationKind.REGION and o.code in {r.code for r in good}]
        if len(regions) == 1:
            upload.organisation = regions[0]
        return {"organisations_created": created, "organisations_updated": updated, "organisations_moved": moved}

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome, rows=rows, save=save,
        header_row=table.header_row, unchanged=unchanged,
        done_message=lambda c: _("Реестр загружен: новых организаций {created}, изменено {updated}.").format(
            created=c.get("organisations_created", 0), updated=c.get("organisations_updated", 0)),
    )

