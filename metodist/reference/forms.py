"""The filters of the assessments list."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metodist.core.models import Subject
from metodist.reference.models import Assessment, Programme


class AssessmentFilter(forms.Form):
    """Programme, subject, grade and year of the works to list; every field may stay empty."""

    programme = forms.ChoiceField(label=_("Программа"), required=False)
    subject = forms.ModelChoiceField(label=_("Предмет"), queryset=Subject.objects.none(), required=False,
                                     empty_label=_("все предметы"), to_field_name="code")
    grade = forms.TypedChoiceField(label=_("Класс"), required=False, coerce=int, empty_value=None)
    year = forms.TypedChoiceField(label=_("Год проведения"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [("", _("все программы")), *Programme.choices]
        self.fields["subject"].queryset = Subject.objects.filter(assessment__isnull=False).distinct()
        grades = Assessment.objects.order_by("grade").values_list("grade", flat=True).distinct()
        years = Assessment.objects.order_by("-year").values_list("year", flat=True).distinct()
        self.fields["grade"].choices = [("", _("все классы")), *((g, str(g)) for g in grades)]
        self.fields["year"].choices = [("", _("все годы")), *((y, str(y)) for y in years)]

    def apply(self, assessments):
        if not self.is_valid():
            return assessments
        data = self.cleaned_data
        if data.get("programme"):
            assessments = assessments.filter(programme=data["programme"])
        if data.get("subject"):
            assessments = assessments.filter(subject=data["subject"])
        if data.get("grade") is not None:
            assessments = assessments.filter(grade=data["grade"])
        if data.get("year") is not None:
            assessments = assessments.filter(year=data["year"])
        return assessments
