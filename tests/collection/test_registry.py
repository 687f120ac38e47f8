"""The registry of organisations: creating and updating the tree, moving, every error, and detection of
the table formats of stage 1."""

from pathlib import Path

import pytest

from metodist.collection.importers.base import read_sheets
from metodist.collection.importing import ImportOptions, detect_format, import_file
from metodist.collection.models import Upload, UploadStatus
from metodist.core.models import Organisation, OrganisationKind, Role, RoleAssignment

HEADER = ["Код", "Наименование", "Полное наименование", "Вид", "Код вышестоящей", "ИСС", "Сельская", "Точка роста",
          "Тип"]


def run(path, **options):
    return import_file(path, ImportOptions(**options))


def csv_file(tmp_path: Path, rows, name="registry.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(";".join(str(c) for c in row) for row in rows) + "\n", encoding="utf-8")
    return path


def errors_at(outcome) -> dict:
    return {(p.row, p.column): p.message for p in outcome.errors}


@pytest.mark.django_db
def test_good_registry_builds_the_tree(samples):
    outcome = run(samples / "registry" / "registry.csv")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.format == "registry"
    assert outcome.counts["organisations_created"] == 8
    region = Organisation.objects.get(code="reg62")
    assert region.kind == OrganisationKind.REGION and region.parent is None
    school = Organisation.objects.get(code="sch620001")
    assert school.kind == OrganisationKind.SCHOOL
    assert school.parent.code == "reg62_m001"
    assert school.social_index == pytest.approx(0.62)
    assert school.is_rural is False and school.has_growth_point is True
    assert school.school_type == "secondary"
    assert school.full_name.startswith("Муниципальное бюджетное")
    rural = Organisation.objects.get(code="sch620003")
    assert rural.is_rural and rural.social_index == pytest.approx(-0.35) and rural.school_type == "basic"
    assert Organisation.objects.get(code="sch620002").school_type == "gymnasium"
    assert Organisation.objects.get(code="iro62").kind == OrganisationKind.INSTITUTE
    assert Organisation.objects.get(code="mms62_m001").kind == OrganisationKind.METHOD_SERVICE
    assert set(Organisation.objects.subtree(region).values_list("code", flat=True)) == {
        "reg62", "reg62_m001", "reg62_m002", "sch620001", "sch620002", "sch620003", "iro62", "mms62_m001"}
    assert school.path.startswith(school.parent.path) and school.depth == region.depth + 2
    upload = outcome.upload
    assert upload.format == "registry" and upload.status == UploadStatus.IMPORTED and upload.organisation == region


@pytest.mark.django_db
def test_every_error_is_reported_with_its_place_and_nothing_is_written(tmp_path, region_tree):
    before = Organisation.objects.count()
    path = csv_file(tmp_path, [
        HEADER,
        ["m1", "Район", "", "район", "reg22", "", "", "", ""],  # 2: unknown kind
        ["s1", "Школа без МО", "", "школа", "", "", "", "", ""],  # 3: school without parent
        ["s2", "Школа в школе", "", "школа", "edu221001", "", "", "", ""],  # 4: parent is a school
        ["s3", "Школа", "", "школа", "reg22_m001", "высокий", "", "", ""],  # 5: non-numeric ИСС
        ["s3", "Школа-дубль", "", "школа", "reg22_m001", "", "", "", ""],  # 6: duplicate code
        ["a", "МО А", "", "муниципалитет", "b", "", "", "", ""],  # 7: cycle a → b → a
        ["b", "МО Б", "", "муниципалитет", "a", "", "", "", ""],  # 8
        ["s4", "Школа", "", "школа", "nowhere", "", "", "", ""],  # 9: unknown parent
        ["s5", "Школа", "", "школа", "reg22_m001", "", "может быть", "", "колледж"],  # 10: yes/no, type
        ["", "Без кода", "", "школа", "reg22_m001", "", "", "", ""],  # 11: no code
    ])
    outcome = run(path)
    assert outcome.status == UploadStatus.REJECTED
    found = errors_at(outcome)
    assert "Вид организации «район» не понят" in found[(2, "Вид")]
    assert "не указан код вышестоящей" in found[(3, "Код вышестоящей")]
    assert "школа не может включать" in found[(4, "Код вышестоящей")]
    assert found[(5, "ИСС")] == "ИСС «высокий» не является числом."
    assert found[(6, "Код")] == "Код s3 уже встречается в строке 5."
    assert "замкнутый круг" in found[(7, "Код вышестоящей")]
    assert "замкнутый круг" in found[(8, "Код вышестоящей")]
    assert "nowhere нет ни в файле, ни в реестре" in found[(9, "Код вышестоящей")]
    assert "ожидается «да» или «нет»" in found[(10, "Сельская")]
    assert "Тип школы «колледж» не понят" in found[(10, "Тип")]
    assert found[(11, "Код")] == "Не указан код организации."
    assert Organisation.objects.count() == before
    upload = Upload.objects.get()
    assert upload.status == UploadStatus.REJECTED and len(upload.errors) == len(outcome.problems)
    assert {e["row"] for e in upload.errors} >= {2, 3, 4, 5, 6, 7, 8, 9, 10, 11}


@pytest.mark.django_db
def test_valid_rows_only_skips_bad_rows_and_their_children(tmp_path, region_tree):
    path = csv_file(tmp_path, [
        HEADER,
        ["reg22_m003", "Район 3", "", "муниципалитет", "reg22", "", "", "", ""],
        ["edu223001", "Школа 3.1", "", "школа", "reg22_m003", "0,4", "да", "", "лицей"],
        ["reg22_m004", "Район 4", "", "область", "reg22", "", "", "", ""],  # bad kind
        ["edu224001", "Школа 4.1", "", "школа", "reg22_m004", "", "", "", ""],  # child of a bad row
    ])
    outcome = run(path, valid_rows_only=True)
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert outcome.counts["rows_rejected"] == 2 and outcome.counts["organisations_created"] == 2
    assert Organisation.objects.get(code="edu223001").parent.code == "reg22_m003"
    assert not Organisation.objects.filter(code__in=["reg22_m004", "edu224001"]).exists()
    assert "Вышестоящая организация reg22_m004 (строка 4) не загружена" in errors_at(outcome)[(5, "Код вышестоящей")]


@pytest.mark.django_db
def test_same_file_twice_is_unchanged_and_dry_run_writes_nothing(samples):
    path = samples / "registry" / "registry.csv"
    checked = run(path, dry_run=True)
    assert checked.status == UploadStatus.CHECKED and checked.counts["organisations_created"] == 8
    assert not Organisation.objects.exists() and not Upload.objects.exists()
    first = run(path)
    assert first.status == UploadStatus.IMPORTED
    second = run(path)
    assert second.status == "unchanged" and second.upload == first.upload
    assert Upload.objects.count() == 1 and Organisation.objects.count() == 8


@pytest.mark.django_db
def test_corrected_registry_updates_in_place(tmp_path, samples):
    run(samples / "registry" / "registry.csv")
    ids = dict(Organisation.objects.values_list("code", "pk"))
    text = (samples / "registry" / "registry.csv").read_text(encoding="utf-8")
    corrected = tmp_path / "registry.csv"
    corrected.write_text(text.replace("МБОУ СОШ № 1;", "МБОУ «СОШ № 1 им. Героев»;").replace(";0,62;", ";0,55;"),
                         encoding="utf-8")
    outcome = run(corrected)
    assert outcome.status == UploadStatus.IMPORTED
    assert outcome.counts["organisations_created"] == 0 and outcome.counts["organisations_updated"] == 1
    school = Organisation.objects.get(code="sch620001")
    assert school.short_name == "МБОУ «СОШ № 1 им. Героев»" and school.social_index == pytest.approx(0.55)
    assert dict(Organisation.objects.values_list("code", "pk")) == ids
    # the first version again is not "unchanged": it would change the database back
    again = run(samples / "registry" / "registry.csv")
    assert again.status == UploadStatus.IMPORTED
    assert Organisation.objects.get(code="sch620001").social_index == pytest.approx(0.62)


@pytest.mark.django_db
def test_moved_school_and_municipality_get_the_right_paths(tmp_path, region_tree):
    school, old, new = region_tree["school11"], region_tree["mun1"], region_tree["mun2"]
    outcome = run(csv_file(tmp_path, [HEADER, [school.code, "Школа 1.1", "", "школа", new.code, "", "", "", ""]]))
    assert outcome.status == UploadStatus.IMPORTED and outcome.counts["organisations_moved"] == 1
    school.refresh_from_db()
    assert school.parent == new and school.path.startswith(new.path)
    assert school in Organisation.objects.subtree(new)
    assert school not in Organisation.objects.subtree(old)
    # a new region level: the municipality moves under a new district with its schools
    outcome = run(csv_file(tmp_path, [
        HEADER,
        ["okrug1", "Округ", "", "орган управления", "reg22", "", "", "", ""],
        [new.code, "Район 2", "", "муниципалитет", "okrug1", "", "", "", ""],
    ], name="move.csv"))
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    okrug = Organisation.objects.get(code="okrug1")
    for org in Organisation.objects.filter(code__in=[new.code, school.code, "edu222001", "edu222002"]):
        assert org.path.startswith(okrug.path), org.code
        assert org.depth == org.path.count("/") - 2
    assert Organisation.objects.get(code="edu222001").depth == 3  # region 0, okrug 1, municipality 2, school 3


@pytest.mark.django_db
def test_region_row_with_unknown_parent_is_a_top_level(tmp_path):
    outcome = run(csv_file(tmp_path, [HEADER, ["reg01", "Регион", "", "регион", "rf", "", "", "", ""]]))
    assert outcome.status == UploadStatus.IMPORTED
    assert Organisation.objects.get(code="reg01").parent is None
    assert any("rf" in p.message and p.severity == "warning" for p in outcome.problems)


@pytest.mark.django_db
def test_methodologist_writes_only_inside_his_subtree(tmp_path, region_tree, django_user_model):
    user = django_user_model.objects.create_user("mun1")
    RoleAssignment.objects.create(user=user, role=Role.METHODOLOGIST, organisation=region_tree["mun1"])
    allowed = csv_file(tmp_path, [HEADER, ["edu221009", "Новая школа", "", "школа", "reg22_m001", "", "", "", ""]])
    assert run(allowed, acting_user=user).status == UploadStatus.IMPORTED
    forbidden = csv_file(tmp_path, [
        HEADER,
        ["edu222009", "Чужая школа", "", "школа", "reg22_m002", "", "", "", ""],
        ["edu221001", "Школа 1.1", "", "школа", "reg22_m002", "", "", "", ""],  # moving out of his subtree
    ], name="forbidden.csv")
    outcome = run(forbidden, acting_user=user)
    assert outcome.status == UploadStatus.REJECTED
    assert {p.row for p in outcome.errors} == {2, 3}
    assert all("нет прав" in p.message for p in outcome.errors)
    assert not Organisation.objects.filter(code="edu222009").exists()
    assert Organisation.objects.get(code="edu221001").parent == region_tree["mun1"]


MY_SAMPLES = {
    "registry/registry.csv": "registry", "teachers/teachers.csv": "teachers", "teachers/teachers.xlsx": "teachers",
    "diagnostics/diagnostics.csv": "diagnostics", "diagnostics/diagnostics.xlsx": "diagnostics",
    "survey/survey.csv": "survey", "attestation/attestation.csv": "attestation", "olympiad/olympiad.csv": "olympiad",
    "spec/reg-2025-ma-7.xlsx": "spec",
}


@pytest.mark.parametrize("name", sorted(MY_SAMPLES))
def test_format_is_detected_from_the_header(samples, name):
    assert detect_format(read_sheets(samples / name), name) == MY_SAMPLES[name]


def test_files_of_other_formats_are_not_taken_for_table_formats(samples):
    mine = set(MY_SAMPLES.values())
    others = [p for p in samples.rglob("*") if p.suffix in {".csv", ".xlsx"}
              and f"{p.parent.name}/{p.name}" not in MY_SAMPLES and p.parent.name not in mine]
    for path in others:
        assert detect_format(read_sheets(path), path.name) not in mine, path


def test_a_teachers_file_is_not_a_registry_and_back(tmp_path):
    from metodist.collection.importers import attestation, diagnostics, registry, teachers

    teachers_file = csv_file(tmp_path, [["Код школы", "ФИО", "Код учителя", "Предмет", "Учебный год", "Классы"]])
    registry_file = csv_file(tmp_path, [HEADER], name="r.csv")
    assert registry.sniff(read_sheets(teachers_file)) == 0
    assert teachers.sniff(read_sheets(registry_file)) == 0
    assert diagnostics.sniff(read_sheets(teachers_file)) == 0 and attestation.sniff(read_sheets(teachers_file)) == 0
    assert teachers.sniff(read_sheets(teachers_file)) >= 8 and registry.sniff(read_sheets(registry_file)) >= 8
