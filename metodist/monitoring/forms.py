"""The lesson observation form: the rubric as one choice 0–2 per criterion; the teacher chosen among those
the user sees."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metodist.core.models import Teacher
from metodist.monitoring.models import RUBRIC, LessonObservation

SCORE_CHOICES = [(0, _("0 — не наблюдалось")), (1, _("1 — частично")), (2, _("2 — в полной мере"))]


class ObservationForm(forms.ModelForm):
    class Meta:
        model = LessonObservation
        fields = ["teacher", "date", "subject", "topic", "content_element", "observer", "strengths", "advice"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "strengths": forms.Textarea(attrs={"rows": 2}), "advice": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = Teacher.objects.visible_to(user).select_related("school").order_by(
            "school__short_name", "full_name")
        self.fields["teacher"].label_from_instance = lambda t: f"{t.full_name} ({t.school.short_name})"
        self.fields["content_element"].required = False
        for code, label in RUBRIC:
            self.fields[f"c_{code}"] = forms.TypedChoiceField(
                label=label, choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect,
                initial=(self.instance.scores or {}).get(code) if self.instance.pk else None)

    def rubric_fields(self):
        return [self[f"c_{code}"] for code, _label in RUBRIC]

    def plain_fields(self):
        return [self[name] for name in self.Meta.fields]

    def save(self, commit=True):
        observation = super().save(commit=False)
        observation.scores = {code: self.cleaned_data[f"c_{code}"] for code, _label in RUBRIC}
        if commit:
            observation.save()
        return observation
