"""Forms of stage 3. Every choice of a school, teacher, problem field or practice is limited to what the
user sees (`visible_to`); content elements and skills are the shared reference."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metodist.assistance.forms import (
    DateInput,
    _elements,
    _organisations,
    _problem_fields,
    teacher_label,
    visible_teachers,
)
from metodist.collection.models import CompetenceArea
from metodist.core.models import Organisation, OrganisationKind, Subject
from metodist.practices.models import CommunitySession, EvidenceVerdict, Practice, PracticeStatus, RiskFactor
from metodist.reference.models import Skill


class PracticeForm(forms.ModelForm):
    link = forms.URLField(label=_("Ссылка на материалы"), max_length=1000, required=False, assume_scheme="https")
    competence_areas = forms.MultipleChoiceField(
        label=_("Профессиональные дефициты"), choices=CompetenceArea.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Области компетентности педагога, дефициты в которых помогает преодолеть практика."))
    risk_factors = forms.MultipleChoiceField(
        label=_("Факторы риска"), choices=RiskFactor.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Рисковые профили школ, на которые направлена практика."))

    class Meta:
        model = Practice
        fields = ["title", "school", "authors", "subject", "grade_from", "grade_to", "summary", "description",
                  "link", "file", "content_elements", "skills", "competence_areas", "risk_factors", "started_year",
                  "evidence_scope"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 2}), "description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _organisations(self.fields["school"], Organisation.objects.visible_to(user).filter(
            kind__in=[OrganisationKind.SCHOOL, OrganisationKind.MUNICIPALITY, OrganisationKind.METHOD_SERVICE,
                      OrganisationKind.INSTITUTE]))
        self.fields["authors"].queryset = visible_teachers(user)
        self.fields["authors"].label_from_instance = teacher_label
        self.fields["authors"].widget.attrs["size"] = 8
        _elements(self.fields["content_elements"])
        self.fields["skills"].queryset = Skill.objects.all().order_by("codifier", "code")
        self.fields["skills"].label_from_instance = lambda s: f"{s.codifier} · {s.code} {s.name[:90]}"
        self.fields["skills"].widget.attrs["size"] = 6
        self.fields["skills"].required = False

    def clean(self):
        data = super().clean()
        low, high = data.get("grade_from"), data.get("grade_to")
        if low and high and low > high:
            self.add_error("grade_to", _("«По класс» меньше «с класса»."))
        if not data.get("content_elements") and not data.get("skills") and not data.get("competence_areas") \
                and not data.get("risk_factors"):
            raise forms.ValidationError(_("Укажите, на что направлена практика: элементы содержания, умения, "
                                          "дефициты или факторы риска."))
        if data.get("evidence_scope") == "teacher" and not data.get("authors"):
            self.add_error("authors", _("Результаты классов авторов подтверждают практику: укажите авторов."))
        return data


class PracticeFilter(forms.Form):
    q = forms.CharField(label=_("Поиск"), required=False, max_length=200)
    subject = forms.ModelChoiceField(label=_("Предмет"), queryset=Subject.objects.all(), required=False,
                                     to_field_name="code")
    grade = forms.IntegerField(label=_("Класс"), required=False, min_value=1, max_value=11)
    verdict = forms.ChoiceField(label=_("Подтверждение"), required=False)
    status = forms.ChoiceField(label=_("Состояние"), required=False)
    risk = forms.ChoiceField(label=_("Фактор риска"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verdict"].choices = [("", _("любое")), *EvidenceVerdict.choices]
        self.fields["status"].choices = [("", _("все")), *PracticeStatus.choices]
        self.fields["risk"].choices = [("", _("любой")), *RiskFactor.choices]


class SessionForm(forms.ModelForm):
    link = forms.URLField(label=_("Ссылка на вебинар"), max_length=1000, required=False, assume_scheme="https")

    class Meta:
        model = CommunitySession
        fields = ["number", "date", "format", "link", "place", "host", "topic", "agenda", "participants", "guests",
                  "problem_fields", "content_elements", "practices", "decisions", "feedback", "satisfaction"]
        widgets = {"date": DateInput(), "agenda": forms.Textarea(attrs={"rows": 4}),
                   "decisions": forms.Textarea(attrs={"rows": 4}), "feedback": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, community, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            if community._meta.model_name == "methodassociation":
                self.instance.association = community
            else:
                self.instance.club = community
        _organisations(self.fields["host"], Organisation.objects.filter(
            kind__in=[OrganisationKind.SCHOOL, OrganisationKind.MUNICIPALITY, OrganisationKind.REGION]))
        from django.db.models import Q

        current = self.instance.participants.values("pk") if self.instance.pk else []
        self.fields["participants"].queryset = visible_teachers(user).filter(
            Q(pk__in=community.members.values("pk")) | Q(pk__in=current))
        self.fields["participants"].label_from_instance = teacher_label
        self.fields["participants"].widget.attrs["size"] = 10
        self.fields["participants"].help_text = _("Члены сообщества; гостей укажите числом.")
        _problem_fields(self.fields["problem_fields"], user)
        _elements(self.fields["content_elements"])
        self.fields["practices"].queryset = Practice.objects.visible_to(user).select_related("school")
        self.fields["practices"].label_from_instance = lambda p: f"{p.title} ({p.school.short_name})"
        self.fields["practices"].widget.attrs["size"] = 6
        for name in ("participants", "problem_fields", "content_elements", "practices"):
            self.fields[name].required = False
