"""What the database holds, for `metodist status` and the start page."""

from __future__ import annotations

from django.db.models import Count, Q

from metodist.collection.models import TaskScore, Upload, Work
from metodist.core.models import Organisation, Pupil, Teacher
from metodist.reference.models import Assessment


def database_status() -> dict:
    kinds = dict(Organisation.objects.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    works = Work.objects.aggregate(total=Count("pk"), absent=Count("pk", filter=Q(absent=True)))
    return {
        "organisations": kinds,
        "pupils": Pupil.objects.count(),
        "teachers": Teacher.objects.count(),
        "assessments": Assessment.objects.count(),
        "assessments_with_results": Work.objects.values("assessment").distinct().count(),
        "works": {"present": works["total"] - works["absent"], "absent": works["absent"]},
        "task_scores": TaskScore.objects.count(),
        "uploads": dict(Upload.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")),
    }
