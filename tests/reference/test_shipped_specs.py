"""Checks of the shipped assessment specifications (metodist/reference/specs/*.yaml).

Plain pytest, no Django.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

SPECS_DIR = Path(__file__).resolve().parents[2] / "metodist" / "reference" / "specs"
SPEC_FILES = sorted(SPECS_DIR.glob("*.yaml"))

TOP_KEYS = [
    "code", "programme", "subject", "subject_name", "grade", "year", "title", "source",
    "partial", "partial_reason", "max_primary", "grade_scale", "grade_scale_note",
    "content_elements", "skills", "tasks",
]
TASK_KEYS = {"number", "max_score", "task_type", "level", "content_elements", "skills", "description"}
OPTIONAL_TASK_KEYS = {"label"}
SUBJECTS = {"ru", "ma", "okr", "is", "ob", "gg", "bi", "fi", "hi", "en", "de", "fr"}
PROGRAMMES = {"VPR", "OGE", "EGE"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def spec(code: str) -> dict:
    return load(SPECS_DIR / f"{code}.yaml")


def test_there_are_specs():
    assert len(SPEC_FILES) >= 40


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_schema(path: Path):
    s = load(path)
    assert list(s.keys()) == TOP_KEYS
    assert s["code"] == path.stem
    assert re.fullmatch(r"(vpr|oge|ege)-\d{4}-[a-z]+-\d{1,2}", s["code"])
    assert s["programme"] in PROGRAMMES
    assert s["code"] == f"{s['programme'].lower()}-{s['year']}-{s['subject']}-{s['grade']}"
    assert s["subject"] in SUBJECTS
    assert isinstance(s["grade"], int) and 4 <= s["grade"] <= 11
    assert isinstance(s["subject_name"], str) and s["subject_name"]
    assert isinstance(s["title"], str) and s["title"]
    assert isinstance(s["source"], str) and s["source"]
    assert isinstance(s["partial"], bool)
    assert isinstance(s["partial_reason"], str)
    assert bool(s["partial_reason"]) == s["partial"], "partial_reason must be given exactly when partial"
    assert isinstance(s["max_primary"], int) and s["max_primary"] > 0
    assert isinstance(s["grade_scale_note"], str)
    for key in ("content_elements", "skills"):
        assert isinstance(s[key], list)
        codes = [c["code"] for c in s[key]]
        assert len(codes) == len(set(codes)), f"duplicate {key} codes"
        for c in s[key]:
            assert set(c) == {"code", "name"}
            assert isinstance(c["code"], str) and c["code"]
            # a few codebook rows (KS.xlsx/KT.xlsx) have no name in the source: "" is allowed
            assert isinstance(c["name"], str)
    assert s["tasks"]
    for t in s["tasks"]:
        assert TASK_KEYS <= set(t) <= TASK_KEYS | OPTIONAL_TASK_KEYS
        assert isinstance(t["number"], str)
        assert re.fullmatch(r"\d+(\.\d+)*", t["number"]), t["number"]
        assert isinstance(t["max_score"], int) and t["max_score"] > 0
        assert t["task_type"] in (None, "short", "extended")
        assert t["level"] in (None, "B", "P", "V")
        assert isinstance(t["description"], str)
        if "label" in t:
            assert t["label"] and t["label"] != t["number"]


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_task_numbers_unique(path: Path):
    numbers = [t["number"] for t in load(path)["tasks"]]
    assert len(numbers) == len(set(numbers))


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_codes_referenced_by_tasks_exist(path: Path):
    s = load(path)
    kes = {c["code"] for c in s["content_elements"]}
    kt = {c["code"] for c in s["skills"]}
    used_kes = {c for t in s["tasks"] for c in t["content_elements"]}
    used_kt = {c for t in s["tasks"] for c in t["skills"]}
    assert used_kes <= kes
    assert used_kt <= kt
    # the lists hold only the codes the tasks use
    assert kes == used_kes
    assert kt == used_kt


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_grade_scale(path: Path):
    s = load(path)
    scale = s["grade_scale"]
    assert scale.get(2) == 0
    assert set(scale) <= {2, 3, 4, 5}
    marks = sorted(scale)
    assert marks == list(range(2, 2 + len(marks))), "marks must be contiguous from 2"
    values = [scale[m] for m in marks]
    assert values == sorted(values) and len(set(values)) == len(values), "thresholds must increase"
    assert all(0 <= v <= s["max_primary"] for v in values)
    if not s["partial"]:
        assert marks == [2, 3, 4, 5]


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_max_primary_is_sum_of_tasks(path: Path):
    s = load(path)
    total = sum(t["max_score"] for t in s["tasks"])
    if not s["partial"]:
        assert total == s["max_primary"]
    else:
        assert total <= s["max_primary"]


# ---------------------------------------------------------------------------
# spot checks against the published documents
# ---------------------------------------------------------------------------

def test_vpr_2021_ma_5_task_list_matches_published_completion_list():
    # real-samples README: one region's per-task completion list for ВПР 2021 Математика 5,
    # «1–14: 63.10, ..., 88.84 (11.1), 75.23 (11.2), 56.74 (12.1), 50.37 (12.2), 29.69, 8.38»
    # = 16 task columns.
    s = spec("vpr-2021-ma-5")
    numbers = [t["number"] for t in s["tasks"]]
    assert numbers == [str(i) for i in range(1, 11)] + ["11.1", "11.2", "12.1", "12.2", "13", "14"]
    # VPR_MA-5_Opisanie_2021.pdf, п. 9: tasks 6, 9, 10, 14 are scored 0..2, the rest 1 point; total 20
    scores = {t["number"]: t["max_score"] for t in s["tasks"]}
    assert {n for n, m in scores.items() if m == 2} == {"6", "9", "10", "14"}
    assert s["max_primary"] == 20
    assert s["grade_scale"] == {2: 0, 3: 7, 4: 11, 5: 15}   # 0–6, 7–10, 11–14, 15–20
    assert not s["partial"]


def test_vpr_2021_upload_form_numbering():
    # upload forms write «1К1 (4б)», «4(1) (3б)»; normalised to 1.1 / 4.1
    ru5 = spec("vpr-2021-ru-5")
    numbers = [t["number"] for t in ru5["tasks"]]
    assert numbers[:7] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4"]
    assert ru5["tasks"][0]["label"] == "1К1"
    assert "4.1" in numbers and "4.2" in numbers
    assert ru5["max_primary"] == 45 and ru5["grade_scale"] == {2: 0, 3: 18, 4: 29, 5: 39}


@pytest.mark.parametrize(
    "code, scale, max_primary",
    [
        ("vpr-2021-ma-4", {3: 6, 4: 10, 5: 15}, 20),
        ("vpr-2021-ru-4", {3: 14, 4: 24, 5: 33}, 38),
        ("vpr-2021-okr-4", {3: 8, 4: 18, 5: 27}, 32),
        ("vpr-2021-ru-8", {3: 26, 4: 32, 5: 45}, 51),
        ("vpr-2021-hi-11", {3: 11, 4: 20, 5: 28}, 33),
    ],
)
def test_vpr_2021_published_scales(code, scale, max_primary):
    s = spec(code)
    assert s["grade_scale"] == {2: 0, **scale}
    assert s["max_primary"] == max_primary


def test_pdf_wins_over_table():
    # VPR_MA-8, п. 9: tasks 3, 4, 5 are 1 point, 15 is 0..2 (ALL.xlsx says 2, 2, 3, 1)
    ma8 = {t["number"]: t["max_score"] for t in spec("vpr-2021-ma-8")["tasks"]}
    assert (ma8["3"], ma8["4"], ma8["5"], ma8["15"]) == (1, 1, 1, 2)
    # VPR_BI-6, п. 9: 10.1 and 10.2 are 2 points each (ALL.xlsx: 4 each)
    bi6 = {t["number"]: t["max_score"] for t in spec("vpr-2021-bi-6")["tasks"]}
    assert (bi6["10.1"], bi6["10.2"]) == (2, 2)


def test_vpr_2021_gg_8_scale_left_incomplete():
    # the description prints «4» 27–35 and «5» 35–40
    s = spec("vpr-2021-gg-8")
    assert s["partial"]
    assert 5 not in s["grade_scale"]
    assert s["grade_scale_note"]


def test_vpr_2026_ru_4():
    s = spec("vpr-2026-ru-4")
    numbers = [t["number"] for t in s["tasks"]]
    assert numbers == ["1", "2", "3", "4", "5", "6", "7", "8", "9.1", "9.2", "10.1", "10.2", "11", "12.1", "12.2"]
    assert s["max_primary"] == 24
    assert sum(t["max_score"] for t in s["tasks"]) == 24
    assert [t["level"] for t in s["tasks"]] == ["B"] * 8 + ["P"] * 4 + ["B"] * 3
    assert s["grade_scale"][3] == 10


def test_oge_ma_9():
    s = spec("oge-2024-ma-9")
    assert [t["number"] for t in s["tasks"]] == [str(i) for i in range(1, 26)]
    assert s["max_primary"] == 31
    assert sum(t["max_score"] for t in s["tasks"]) == 31
    assert s["grade_scale"][3] == 8
