"""The `metodist` command: import with --json and exit codes, status, dry runs, a fresh data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from metodist.cli import app
from metodist.collection.models import Upload, Work
from metodist.reference.specs import save_spec

JOURNAL = "Отметка за предыдущий триместр/ четверть/полугодие"
HEADER = ["Код участника", "Вариант", "1 (2б)", "2 (1б)", "3 (2б)", "Порядковый номер класса", JOURNAL, "Итого баллов"]
GOOD = [[40001, 1, 2, 1, 2, 1, 5, 5], [40002, 2, 1, 0, "X", 1, 3, 1], [40003, "отсутствовал", None, None, None, 2,
                                                                           4, 0]]
STATUS_KEYS = {"organisations", "pupils", "teachers", "assessments", "assessments_with_results", "works",
               "task_scores", "uploads"}
METODIST = str(Path(sys.executable).parent / "metodist")


def write_xlsx(path: Path, rows) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


@pytest.fixture
def ready(region_tree, monkeypatch):
    """The test database is already migrated; skip loading every shipped spec for speed."""
    monkeypatch.setattr("metodist.bootstrap._ready", True)
    save_spec({
        "code": "test-2026-ma-4", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2026,
        "tasks": [{"number": "1", "max_score": 2}, {"number": "2", "max_score": 1}, {"number": "3", "max_score": 2}],
        "grade_scale": {3: 2, 4: 3, 5: 5},
    })
    return region_tree


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_import_json_success(ready, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    result = invoke("import", path, "--assessment", "test-2026-ma-4", "--school", "edu221001", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "imported" and data["format"] == "vpr-form" and data["file"] == "форма.xlsx"
    assert data["counts"]["works_imported"] == 2 and data["counts"]["absent"] == 1
    assert data["errors"] == [] and isinstance(data["upload"], int)
    assert data["message"] == "Загружено работ: 2, отсутствовали: 1."
    again = invoke("import", path, "--assessment", "test-2026-ma-4", "--school", "edu221001", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "unchanged"


def test_import_json_validation_errors(ready, tmp_path):
    rows = [HEADER, *GOOD]
    rows[1] = [40001, 1, 9, 1, 2, 1, 5, 5]
    path = write_xlsx(tmp_path / "форма.xlsx", rows)
    result = invoke("import", path, "--assessment", "test-2026-ma-4", "--school", "edu221001", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "rejected"
    assert data["errors"] == [{"file": "форма.xlsx", "sheet": "Протокол", "row": 2, "column": "1 (2б)",
                               "message": "Балл за задание 1 (9) больше максимального (2).", "severity": "error"}]
    assert not Work.objects.exists()


def test_import_text_output(ready, tmp_path):
    rows = [HEADER, *GOOD]
    rows[1] = [40001, 1, 9, 1, 2, 1, 5, 5]
    path = write_xlsx(tmp_path / "форма.xlsx", rows)
    result = invoke("import", path, "--assessment", "test-2026-ma-4", "--school", "edu221001")
    assert result.exit_code == 1
    assert "ошибка: форма.xlsx, лист «Протокол», строка 2, столбец «1 (2б)»: Балл за задание 1 (9) больше" in result.output
    assert "Traceback" not in result.output


def test_import_unknown_format(ready, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    result = invoke("import", path, "--format", "nonsense", "--json")
    assert result.exit_code == 2
    assert "Неизвестный формат «nonsense»" in result.output
    assert not Upload.objects.exists()


def test_import_bad_file_exits_1_with_a_message(ready, tmp_path):
    path = tmp_path / "пустой.csv"
    path.write_bytes(b"")
    result = invoke("import", path, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["message"] == "Файл пустой.csv пуст."


def test_dry_run_writes_nothing(ready, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    result = invoke("import", path, "--assessment", "test-2026-ma-4", "--school", "edu221001", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "checked" and data["counts"]["works_imported"] == 2
    assert not Work.objects.exists() and not Upload.objects.exists()


def test_status_json(ready, tmp_path):
    invoke("import", write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD]), "--assessment", "test-2026-ma-4",
           "--school", "edu221001")
    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == STATUS_KEYS
    assert data["works"] == {"present": 2, "absent": 1}
    assert data["organisations"]["school"] == 4 and data["uploads"] == {"imported": 1}
    assert data["task_scores"] == 6 and data["pupils"] == 3


@pytest.mark.slow
def test_fresh_data_directory(tmp_path):
    """Every command creates and migrates the database in a new data directory by itself."""
    if os.environ.get("METODIST_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("a fresh data directory is the SQLite case")
    env = {k: v for k, v in os.environ.items() if k != "METODIST_DATABASE_URL"}
    for command in (["status", "--json"], ["import", str(tmp_path / "нет.xlsx"), "--json"]):
        data_dir = tmp_path / f"data-{command[0]}"
        env["METODIST_DATA_DIR"] = str(data_dir)
        result = subprocess.run([METODIST, *command], env=env, capture_output=True, text=True, timeout=300)
        assert (data_dir / "metodist.sqlite3").exists(), result.stderr
        assert "Traceback" not in result.stderr
        if command[0] == "status":
            assert result.returncode == 0, result.stderr
            data = json.loads(result.stdout)
            assert set(data) == STATUS_KEYS and data["assessments"] > 0  # shipped specs loaded
        else:
            assert result.returncode == 1
            assert "не найден" in json.loads(result.stdout)["message"]
