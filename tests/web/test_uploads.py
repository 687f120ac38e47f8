"""The upload pages of stage 1: send a file, watch its progress, read every error, import the valid rows
only, the same file twice, a corrected file, the history, and who may do what. The import runs as a
django-tasks task: synchronously here (the immediate backend), and once through the database backend
and its worker, as `metodist serve` runs it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import xlsxwriter
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from metodist.collection import tasks
from metodist.collection.models import TaskScore, Upload, UploadStatus, Work
from metodist.core.models import AuditEntry, Role, RoleAssignment
from metodist.reference.specs import save_spec

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
HEADER = ["Школа", "Код участника", "Вариант", "1 (2б)", "2 (1б)", "3 (2б)", "Наименование класса", "Итого баллов"]
ROWS = [  # spreadsheet rows 2…6
    ["edu221001", 40001, 1, 2, 1, 2, "4А", 5],
    ["edu221001", 40002, 2, 1, 0, "X", "4А", 1],
    ["edu221001", 40003, 1, 0, 1, 1, "4Б", 2],
    ["edu221002", 40001, 2, 2, 1, 1, "4А", 4],
    ["edu221002", 40002, 1, "не пройд.", 1, 0, "4А", 1],
]


def xlsx_bytes(tmp_path: Path, rows: list[list], name: str = "form.xlsx") -> bytes:
    path = tmp_path / name
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    workbook.close()
    return path.read_bytes()


def bad_rows() -> list[list]:
    """Three planted errors: row 3 task 1 = 5 (max 2), row 5 task 3 = 9 (max 2), row 7 repeats row 2's pupil."""
    rows = [list(r) for r in ROWS]
    rows[1][3] = 5
    rows[3][5] = 9
    rows.append(["edu221001", 40001, 1, 1, 1, 1, "4А", 3])
    return rows


@pytest.fixture
def site(region_tree, settings, tmp_path):
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path / "media"
    save_spec({
        "code": "test-2026-ma-4", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2026,
        "tasks": [{"number": "1", "max_score": 2}, {"number": "2", "max_score": 1}, {"number": "3", "max_score": 2}],
        "grade_scale": {3: 2, 4: 3, 5: 5},
    })
    return region_tree


def user_with(role: str, organisation, name: str):
    user = get_user_model().objects.create_user(name, password="x", first_name=name.capitalize())
    RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
    return user


def send(client, content: bytes, name: str = "форма.xlsx", url: str | None = None, **fields):
    data = {"file": SimpleUploadedFile(name, content), "assessment": "test-2026-ma-4", **fields}
    return client.post(url or reverse("collection:uploads"), data)


def upload_of(response) -> Upload:
    assert response.status_code == 302, response.content.decode()[:2000]
    pk = int(re.search(r"/uploads/(\d+)/$", response["Location"]).group(1))
    return Upload.objects.get(pk=pk)


def error_cells(html: str) -> list[tuple[str, str, str]]:
    """(row, column, message) of each row of the error table of an upload's page."""
    section = html.split('id="errors-title"', 1)[1].split("</table>", 1)[0]
    body = section.split("<tbody>", 1)[1]
    cells = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        values = [re.sub(r"<[^>]+>", "", v).strip() for v in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        cells.append((values[2], values[3], values[4]))
    return cells


@pytest.mark.django_db
def test_upload_imports_the_file_and_reports_done(site, client, tmp_path):
    user = user_with(Role.METHODOLOGIST, site["mun1"], "metod")
    client.force_login(user)
    page = client.get(reverse("collection:uploads"))
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("определить автоматически", "Проверить без загрузки", "Загрузить только верные строки",
                  "Создать недостающие организации"):
        assert label in html
    upload = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS])))
    assert upload.status == UploadStatus.IMPORTED, upload.errors
    assert (upload.progress, upload.stage) == (100, tasks.DONE)
    assert upload.uploaded_by == user and upload.file_name == "форма.xlsx"
    assert upload.counts["works_imported"] == 5 and upload.counts["task_scores"] == 15  # 5 pupils × 3 tasks
    assert Upload.objects.count() == 1  # one file sent, one row of the history
    assert Work.objects.filter(upload=upload).count() == 5 and TaskScore.objects.count() == 15
    assert AuditEntry.objects.filter(action="import:imported", object_id=str(upload.pk)).exists()
    assert upload.organisation == site["mun1"]  # both schools of the file are in municipality 1
    stored = Path(tasks.stored_path(upload))
    assert stored.is_file() and stored.parent.parent.name == timezone.localdate().isoformat()  # the day where the users are
    assert stored.parent.parent.parent.name == "uploads"
    # the polled part says it is done and makes htmx reload the page
    polled = client.get(reverse("collection:upload_progress", args=[upload.pk]))
    assert polled["HX-Refresh"] == "true" and 'value="100"' in polled.content.decode()
    assert "every 1s" not in polled.content.decode()
    html = client.get(reverse("collection:upload", args=[upload.pk])).content.decode()
    assert "Загружено работ: 5, отсутствовали: 0." in html
    assert "Заменить исправленным файлом" in html


def test_an_uploads_folder_is_named_by_the_users_day_not_utcs(settings):
    """At 22:30 UTC it is already the next day in Moscow; the folder a user looks for is named by her day."""
    settings.TIME_ZONE = "Europe/Moscow"
    late = Upload(pk=7, created_at=dt.datetime(2026, 12, 7, 22, 30, tzinfo=dt.UTC))
    assert tasks.upload_directory(late) == Path(settings.MEDIA_ROOT) / "uploads" / "2026-12-08" / "7"


@pytest.mark.django_db
def test_every_error_is_listed_and_nothing_is_imported(site, client, tmp_path):
    client.force_login(user_with(Role.METHODOLOGIST, site["mun1"], "metod"))
    upload = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *bad_rows()])))
    assert upload.status == UploadStatus.REJECTED
    assert Work.objects.count() == 0 and TaskScore.objects.count() == 0
    html = client.get(reverse("collection:upload", args=[upload.pk])).content.decode()
    assert "ничего не загружено" in html.lower()
    assert sorted(error_cells(html)) == [
        ("3", "1 (2б)", "Балл за задание 1 (5) больше максимального (2)."),
        ("5", "3 (2б)", "Балл за задание 3 (9) больше максимального (2)."),
        ("7", "", "Участник 40001 уже встречается в строке 2."),
    ]
    assert "форма.xlsx" in html.split('id="errors-title"', 1)[1]  # the file column
    assert "Загрузить только верные строки" in html
    # the errors download as XLSX
    download = client.get(reverse("collection:upload", args=[upload.pk]), {"xlsx": "1"})
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")

    # valid rows only: the same upload is imported again without the three bad rows
    response = client.post(reverse("collection:upload_valid_rows", args=[upload.pk]))
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED_PARTLY and upload.options["valid_rows_only"] is True
    assert upload.counts["works_imported"] == 3
    assert sorted(Work.objects.values_list("school__code", "participant_code")) == [
        ("edu221001", "40001"), ("edu221001", "40003"), ("edu221002", "40002")]
    assert set(Work.objects.values_list("upload_id", flat=True)) == {upload.pk}
    assert Upload.objects.count() == 1


@pytest.mark.django_db
def test_dry_run_checks_without_importing(site, client, tmp_path):
    client.force_login(user_with(Role.METHODOLOGIST, site["mun1"], "metod"))
    upload = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS]), dry_run="on"))
    assert upload.status == UploadStatus.CHECKED and upload.counts["works_imported"] == 5
    assert Work.objects.count() == 0


@pytest.mark.django_db
def test_the_same_file_twice_changes_nothing(site, client, tmp_path):
    client.force_login(user_with(Role.METHODOLOGIST, site["mun1"], "metod"))
    content = xlsx_bytes(tmp_path, [HEADER, *ROWS])
    first = upload_of(send(client, content))
    second = upload_of(send(client, content, name="копия.xlsx"))
    assert second.status == UploadStatus.CHECKED and second.duplicate_of == first
    assert "уже загружен" in second.message
    assert Work.objects.count() == 5 and set(Work.objects.values_list("upload_id", flat=True)) == {first.pk}
    html = client.get(reverse("collection:upload", args=[second.pk])).content.decode()
    assert "Файл не изменился" in html and reverse("collection:upload", args=[first.pk]) in html


@pytest.mark.django_db
def test_a_corrected_file_replaces_the_previous_upload(site, client, tmp_path):
    client.force_login(user_with(Role.METHODOLOGIST, site["mun1"], "metod"))
    first = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS])))
    form = client.get(reverse("collection:upload_replace", args=[first.pk]))
    assert form.status_code == 200 and "Замена исправленным файлом" in form.content.decode()
    corrected = [list(r) for r in ROWS]
    corrected[1][4] = 1  # 40002 of edu221001: task 2 was 0, is 1
    second = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *corrected], "fixed.xlsx"), "исправленная.xlsx",
                            url=reverse("collection:upload_replace", args=[first.pk])))
    first.refresh_from_db()
    assert second.status == UploadStatus.IMPORTED and first.status == UploadStatus.REPLACED
    assert second.replaces == first
    work = Work.objects.get(school__code="edu221001", participant_code="40002")
    assert work.primary_score == 2 and work.upload == second
    old_page = client.get(reverse("collection:upload", args=[first.pk])).content.decode()
    assert "Заменён исправленным файлом" in old_page and reverse("collection:upload", args=[second.pk]) in old_page
    new_page = client.get(reverse("collection:upload", args=[second.pk])).content.decode()
    assert "Этот файл заменил загрузку" in new_page


@pytest.mark.django_db
def test_a_corrected_file_replaces_a_rejected_one(site, client, tmp_path):
    client.force_login(user_with(Role.METHODOLOGIST, site["mun1"], "metod"))
    rejected = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *bad_rows()])))
    fixed = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS]),
                           url=reverse("collection:upload_replace", args=[rejected.pk])))
    rejected.refresh_from_db()
    assert fixed.status == UploadStatus.IMPORTED and fixed.replaces == rejected
    assert rejected.status == UploadStatus.REPLACED and Work.objects.count() == 5


@pytest.mark.django_db
def test_a_school_uploads_only_for_itself(site, client, tmp_path):
    admin = user_with(Role.SCHOOL_ADMIN, site["school11"], "admin11")
    client.force_login(admin)
    html = client.get(reverse("collection:uploads")).content.decode()
    assert "Создать недостающие организации" not in html and 'name="school"' not in html
    upload = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS])))
    assert upload.status == UploadStatus.REJECTED and Work.objects.count() == 0
    assert upload.options["school"] == "edu221001"
    messages = {e["row"]: e["message"] for e in upload.errors}
    assert messages[5] == "Строка относится к школе edu221002, а загрузка — к школе edu221001."
    assert messages[6] == messages[5]
    # its own rows only: imported
    own = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS[:3]], "own.xlsx")))
    assert own.status == UploadStatus.IMPORTED and own.organisation == site["school11"]
    assert set(Work.objects.values_list("school__code", flat=True)) == {"edu221001"}


@pytest.mark.django_db
def test_who_may_upload_and_see(site, client, tmp_path):
    client.force_login(user_with(Role.METHODOLOGIST, site["mun1"], "metod"))
    upload = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *bad_rows()])))
    teacher = user_with(Role.TEACHER, site["school11"], "teacher")
    client.force_login(teacher)
    forbidden = client.get(reverse("collection:uploads"))
    assert forbidden.status_code == 403 and "В вашей роли файлы загружать нельзя." in forbidden.content.decode()
    assert reverse("collection:upload_history") in forbidden.content.decode()
    assert send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS])).status_code == 403
    assert client.post(reverse("collection:upload_valid_rows", args=[upload.pk])).status_code == 403
    assert client.get(reverse("collection:upload_replace", args=[upload.pk])).status_code == 403
    # a teacher reads his school's history, not the municipality's file (it is not his school's)
    history = client.get(reverse("collection:upload_history"))
    assert history.status_code == 200 and "форма.xlsx" not in history.content.decode()
    assert client.get(reverse("collection:upload", args=[upload.pk])).status_code == 404
    viewer = user_with(Role.VIEWER, site["mun1"], "viewer")
    client.force_login(viewer)
    assert client.get(reverse("collection:uploads")).status_code == 403
    page = client.get(reverse("collection:upload", args=[upload.pk]))
    assert page.status_code == 200 and "Загрузить только верные строки" not in page.content.decode()
    # a school of another municipality: 404, as for an upload that does not exist
    other = user_with(Role.SCHOOL_ADMIN, site["school21"], "admin21")
    client.force_login(other)
    for name in ("collection:upload", "collection:upload_progress", "collection:upload_replace"):
        assert client.get(reverse(name, args=[upload.pk])).status_code == 404
    assert client.post(reverse("collection:upload_valid_rows", args=[upload.pk])).status_code == 404
    assert client.get(reverse("collection:upload", args=[upload.pk + 1000])).status_code == 404
    assert Work.objects.count() == 0
    # without any role: 403
    nobody = get_user_model().objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("collection:upload_history")).status_code == 403


@pytest.mark.django_db
def test_history_lists_who_when_status_counts_with_bounded_queries(site, client, tmp_path):
    metod = user_with(Role.METHODOLOGIST, site["mun1"], "metod")
    client.force_login(metod)
    upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS])))
    school_upload = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *bad_rows()[:2]], "s.xlsx"),
                                   name="школа.xlsx", school="edu221001"))
    assert school_upload.organisation == site["school11"]
    url = reverse("collection:upload_history")
    client.get(url)  # the frame caches the state of the cycle until an upload or an analysis changes it
    with CaptureQueriesContext(connection) as few:
        page = client.get(url)
    html = page.content.decode()
    assert "форма.xlsx" in html and "школа.xlsx" in html and "Metod" in html
    assert "загружено работ: 5" in html and "отклонён: ошибки в файле" in html
    assert reverse("collection:upload", args=[school_upload.pk]) in html
    filtered = client.get(url, {"organisation": site["school11"].pk}).content.decode()
    assert "школа.xlsx" in filtered and "форма.xlsx" not in filtered
    for i in range(60):
        Upload.objects.create(file_name=f"f{i}.xlsx", format="long", status=UploadStatus.IMPORTED,
                              organisation=site["school12"], uploaded_by=metod, counts={"works_imported": i + 1})
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    # session, user, roles; count and page of uploads; the organisations of the filter; the frame's five
    # (years with results, and the versions of uploads, analyses and roadmaps its cached figures depend on)
    assert len(many) == len(few) <= 11, [q["sql"][:120] for q in many]
    links = r'href="/collection/uploads/\d+/"'
    assert len(re.findall(links, page.content.decode())) == 50  # a page of 50 of the 62
    second = client.get(url, {"page": 2}).content.decode()
    assert len(re.findall(links, second)) == 12 and "Страница 2 из 2" in second
    assert "f59.xlsx" in page.content.decode() and "загружено работ: 60" in page.content.decode()  # newest first
    download = client.get(url, {"xlsx": "1"})
    assert download.status_code == 200


@pytest.mark.django_db
def test_progress_of_a_running_import_is_polled_cheaply(site, client, django_assert_max_num_queries):
    metod = user_with(Role.METHODOLOGIST, site["mun1"], "metod")
    client.force_login(metod)
    upload = Upload.objects.create(file_name="big.xlsx", status=UploadStatus.RUNNING, stage=tasks.READING,
                                   progress=tasks.READING_AT, organisation=site["mun1"], uploaded_by=metod)
    directory = tasks.upload_directory(upload)
    directory.mkdir(parents=True)
    (directory / "big.xlsx").write_bytes(b"x")
    upload.stored_file = str((directory / "big.xlsx").relative_to(directory.parents[2]))
    upload.save()
    url = reverse("collection:upload_progress", args=[upload.pk])
    client.get(url)  # the session is loaded once
    with django_assert_max_num_queries(4):  # session, user, roles (middleware) and the upload: one of its own
        polled = client.get(url)
    html = polled.content.decode()
    assert 'hx-trigger="every 1s"' in html and "HX-Refresh" not in polled
    assert "<progress" in html and "value=" not in html.split("<progress", 1)[1].split(">", 1)[0]  # still checking
    # half the rows written: 10 % + 88 % × 1/2 = 54 %
    tasks.Reporter(upload, interval=0)(500, 1000)
    html = client.get(url).content.decode()
    assert 'value="54"' in html and "Записано строк: 500 из 1000." in html
    page = client.get(reverse("collection:upload", args=[upload.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="54"' in page


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_and_its_worker(site, client, settings, tmp_path):
    settings.TASKS = DATABASE
    client.force_login(user_with(Role.METHODOLOGIST, site["mun1"], "metod"))
    upload = upload_of(send(client, xlsx_bytes(tmp_path, [HEADER, *ROWS])))
    assert upload.status == UploadStatus.RUNNING and upload.stage == tasks.QUEUED and Work.objects.count() == 0
    html = client.get(reverse("collection:upload", args=[upload.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "Файл в очереди на загрузку." in html
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED and upload.progress == 100
    assert Work.objects.filter(upload=upload).count() == 5
    assert not (Path(tasks.stored_path(upload)).parent / tasks.PROGRESS_FILE).exists()
    assert client.get(reverse("collection:upload_progress", args=[upload.pk]))["HX-Refresh"] == "true"


@pytest.mark.django_db
def test_a_lost_file_or_a_deleted_user_ends_the_upload_with_a_message(site):
    user = user_with(Role.METHODOLOGIST, site["mun1"], "metod")
    lost = Upload.objects.create(file_name="lost.xlsx", status=UploadStatus.RUNNING, organisation=site["mun1"],
                                 uploaded_by=user, stored_file="uploads/2026-01-01/1/lost.xlsx")
    tasks.run_import(lost.pk)
    lost.refresh_from_db()
    assert lost.status == UploadStatus.FAILED and lost.progress == 100
    assert lost.message == "Файл lost.xlsx не сохранился на сервере; загрузите его ещё раз."
    assert lost.errors[0]["file"] == "lost.xlsx"
    orphan = Upload.objects.create(file_name="x.xlsx", status=UploadStatus.RUNNING, organisation=site["mun1"],
                                   uploaded_by=None, stored_file="uploads/2026-01-01/2/x.xlsx")
    tasks.run_import(orphan.pk)
    orphan.refresh_from_db()
    assert orphan.status == UploadStatus.REJECTED and "удалена" in orphan.message
    assert tasks.run_import(orphan.pk) is None  # a task run twice does nothing the second time
