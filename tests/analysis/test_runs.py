"""The whole analysis of a year as one stored run (`metodist analyse`): every part stores its findings
against the run, a second run keeps the first, and the command prints the summary."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from typer.testing import CliRunner

SEED = 11
SCALE = 8


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from metodist.analysis.runs import run_analysis
    from metodist.demo.build import build_demo

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda message: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        run = run_analysis(year=2025)
        yield {"truth": truth, "run": run}
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_run_stores_every_part_with_its_findings(demo):
    from metodist.analysis.models import (
        DeficitProfile,
        ObjectivityResult,
        ProblemField,
        RunStatus,
        SchoolStatus,
    )

    run, truth = demo["run"], demo["truth"]
    assert run.status == RunStatus.DONE and run.finished_at is not None
    assert set(run.summary) == {"problem_fields", "classification", "objectivity", "deficits"}
    assert str(run.academic_year) == "2025/2026" and run.scope.code == "demo-reg"
    assert run.data_version["works"] > 0
    # what was planted is what the run found, in the run's own rows
    first = ObjectivityResult.objects.filter(run=run).order_by("rank").first()
    assert first.school.code == truth["inflated_school"]["school"]
    statuses = set(SchoolStatus.objects.filter(run=run).values_list("school__code", "kind"))
    for school in truth["low_result_schools"]:
        code = school["school"]
        assert (code, "low_results") in statuses
    assert ProblemField.objects.filter(run=run, flagged=True).exists()
    assert DeficitProfile.objects.filter(run=run, scope="personal").exists()
    assert run.summary["problem_fields"]["problem_fields"] == ProblemField.objects.filter(run=run).count()


@pytest.mark.django_db
def test_a_new_run_keeps_the_old_one(demo):
    from metodist.analysis.models import AnalysisRun, ObjectivityResult
    from metodist.analysis.runs import run_analysis

    second = run_analysis(year=2025)
    assert second.pk != demo["run"].pk
    assert AnalysisRun.objects.filter(pk=demo["run"].pk).exists()
    assert ObjectivityResult.objects.filter(run=demo["run"]).count() == ObjectivityResult.objects.filter(
        run=second).count()


@pytest.mark.django_db
def test_a_failing_part_marks_the_run_failed(demo, monkeypatch):
    from metodist.analysis import classification
    from metodist.analysis.models import AnalysisRun, RunStatus
    from metodist.analysis.runs import run_analysis

    def broken(run, engine):
        raise ZeroDivisionError

    monkeypatch.setattr(classification, "store", broken)
    with pytest.raises(ZeroDivisionError):
        run_analysis(year=2025)
    failed = AnalysisRun.objects.order_by("-pk").first()
    assert failed.status == RunStatus.FAILED and failed.summary["error"] == "ZeroDivisionError"
    assert AnalysisRun.objects.latest_done().pk != failed.pk


@pytest.mark.django_db
def test_the_command_prints_the_summary(demo):
    from metodist.cli import app

    result = CliRunner().invoke(app, ["analyse", "--year", "2025", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["year"] == "2025/2026" and data["scope"] == "demo-reg"
    assert set(data) >= {"run", "problem_fields", "classification", "objectivity", "deficits"}
    bad = CliRunner().invoke(app, ["analyse", "--engine", "spark"])
    assert bad.exit_code == 2


@pytest.mark.django_db
def test_an_unknown_organisation_is_a_message_not_a_traceback():
    from metodist.cli import app

    result = CliRunner().invoke(app, ["analyse", "--org", "no-such-org"])
    assert result.exit_code == 1
    assert "не найдена" in result.output
