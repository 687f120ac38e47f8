"""Forms for the teacher data people enter by hand: an attestation note, a personal deficit noted for a
teacher, an association's finding (a corporate deficit of its subject). Foreign-key choices are limited to
what the user may see; `record()` saves inside one transaction, checks that the saved object is still
visible to the user (else nothing is kept) and writes an audit row."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metodist.collection.models import (
    Attestation,
    CompetenceArea,
    DeficitScope,
    DeficitSource,
    ProfessionalDeficit,
)
from metodist.core.cycle import calendar_academic_year, year_label
from metodist.core.models import AcademicYear, AuditEntry, MethodAssociation, Role, Subject, Teacher
from metodist.reference.models import ContentElement

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


def acting_role(user) -> str | None:
    """The role the user acts in; "superuser" for a superuser without roles; None without any role."""
    acting = getattr(user, "metodist_acting", None)
    if acting is not None:
        return acting.role
    return "superuser" if user.is_superuser else None


#: who may enter what (the acting role)
ENTRY_ROLES = {
    "attestation": {"superuser", Role.REGION_ADMIN, Role.METHODOLOGIST, Role.SCHOOL_ADMIN},
    "deficit": {"superuser", Role.REGION_ADMIN, Role.METHODOLOGIST, Role.SCHOOL_ADMIN, Role.TEACHER},
    "finding": {"superuser", Role.REGION_ADMIN, Role.METHODOLOGIST, Role.SCHOOL_ADMIN, Role.ASSOCIATION_HEAD},
}


def may_enter(user, kind: str) -> bool:
    return acting_role(user) in ENTRY_ROLES[kind]


def associations_for(user):
    """The associations whose findings the user may record: an association head his own associations
    (a ГМО belongs to the municipality, above the head's school), the others those they may see."""
    if acting_role(user) == Role.ASSOCIATION_HEAD:
        return MethodAssociation.objects.filter(head__user=user)
    return MethodAssociation.objects.visible_to(user)


def deficits_for(user):
    """The deficits and findings the user may read: what `visible_to` gives, and for an association head
    also the findings of the associations he heads."""
    visible = ProfessionalDeficit.objects.visible_to(user)
    if acting_role(user) == Role.ASSOCIATION_HEAD:
        headed = ProfessionalDeficit.objects.filter(association__head__user=user).values("pk")
        visible = ProfessionalDeficit.objects.filter(pk__in=visible.values("pk")) | \
            ProfessionalDeficit.objects.filter(pk__in=headed)
    return visible


def year_choices(today: dt.date | None = None) -> list[tuple[int, str]]:
    current = calendar_academic_year(today)
    return [(y, year_label(y)) for y in range(current, current - 5, -1)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ElementChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: ContentElement) -> str:
        name = obj.name if len(obj.name) <= 90 else obj.name[:89] + "…"
        return f"{obj.codifier}: {obj.code} {name}"


class TeacherChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Teacher) -> str:
        return f"{obj.full_name} ({obj.school.short_name})"


class EntryForm(forms.ModelForm):
    """What the three forms share: the user's choices, the academic year and the element check."""

    def __init__(self, *args, user, year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if "teacher" in self.fields:
            self.fields["teacher"] = TeacherChoice(
                label=_("Учитель"), queryset=Teacher.objects.visible_to(user).select_related("school"),
                empty_label=_("выберите учителя"))
        if "content_element" in self.fields:
            self.fields["content_element"] = ElementChoice(
                label=_("Элемент содержания (КЭС)"), required=False, empty_label=_("не указан"),
                queryset=ContentElement.objects.order_by("codifier", "code"),
                help_text=_("Код элемента из кодификатора работы, если недостаток связан с темой работы."))
        if "subject" in self.fields:
            self.fields["subject"].queryset = Subject.objects.order_by("name")
        if "year" in self.fields:
            choices = year_choices()
            self.fields["year"].choices = choices
            self.fields["year"].initial = year if year in dict(choices) else choices[0][0]

    def clean(self):
        data = super().clean()
        element, subject = data.get("content_element"), data.get("subject")
        if element is not None and subject is not None and element.subject_id != subject.pk:
            self.add_error("content_element", _("Элемент содержания «{element}» относится к другому предмету, а не к "
                                                "предмету «{subject}».").format(element=element.code,
                                                                                 subject=subject.name))
        return data


class AttestationForm(EntryForm):
    difficulty_area = forms.ChoiceField(
        label=gettext_lazy("Область затруднений"), choices=CompetenceArea.choices, initial=CompetenceArea.METHODOLOGICAL)
    difficulties_text = forms.CharField(
        label=gettext_lazy("Затруднения, отмеченные экспертами"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Каждое затруднение с новой строки."))

    class Meta:
        model = Attestation
        fields = ["teacher", "held_on", "category", "note"]
        widgets = {"held_on": DateInput(), "note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["held_on"].input_formats = DATE_FORMATS
        self.order_fields(["teacher", "held_on", "category", "difficulty_area", "difficulties_text", "note"])

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > dt.date.today():
            raise forms.ValidationError(_("Дата аттестации ещё не наступила."))
        return held_on

    def clean(self):
        data = super().clean()
        lines = [line.strip() for line in (data.get("difficulties_text") or "").splitlines() if line.strip()]
        if not lines and not (data.get("note") or "").strip():
            raise forms.ValidationError(_("Укажите затруднения или заключение экспертной группы."))
        self.instance.difficulties = [{"area": data.get("difficulty_area"), "text": line} for line in lines]
        return data


class PersonalDeficitForm(EntryForm):
    year = forms.TypedChoiceField(label=gettext_lazy("Учебный год"), coerce=int)

    class Meta:
        model = ProfessionalDeficit
        fields = ["teacher", "subject", "competence_area", "topic", "content_element", "source", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [c for c in DeficitSource.choices if c[0] != DeficitSource.ASSOCIATION]
        self.order_fields(["teacher", "year", "subject", "competence_area", "topic", "content_element", "source",
                           "note"])

    def save(self, commit=True):
        deficit = self.instance
        deficit.scope = DeficitScope.PERSONAL
        deficit.organisation = self.cleaned_data["teacher"].school
        deficit.academic_year = AcademicYear.objects.get_or_create(start_year=self.cleaned_data["year"])[0]
        return super().save(commit)


class FindingForm(EntryForm):
    """A corporate deficit an association recorded for its subject."""

    year = forms.TypedChoiceField(label=gettext_lazy("Учебный год"), coerce=int)

    class Meta:
        model = ProfessionalDeficit
        fields = ["association", "subject", "competence_area", "topic", "content_element", "note"]
        labels = {"note": gettext_lazy("Описание")}
        widgets = {"note": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["association"].queryset = associations_for(self.user).select_related("organisation")
        self.fields["association"].required = True
        self.fields["association"].empty_label = _("выберите объединение")
        self.fields["subject"].required = True
        self.order_fields(["association", "year", "subject", "competence_area", "topic", "content_element", "note"])

    def clean(self):
        data = super().clean()
        association, subject = data.get("association"), data.get("subject")
        if association is not None and subject is not None:
            subjects = list(association.subjects.all())
            if subjects and subject not in subjects:
                self.add_error("subject", _("Объединение «{association}» не ведёт предмет «{subject}».").format(
                    association=association.name, subject=subject.name))
        return data

    def save(self, commit=True):
        deficit = self.instance
        deficit.scope = DeficitScope.CORPORATE
        deficit.source = DeficitSource.ASSOCIATION
        deficit.organisation = self.cleaned_data["association"].organisation
        deficit.academic_year = AcademicYear.objects.get_or_create(start_year=self.cleaned_data["year"])[0]
        return super().save(commit)


def record(form: EntryForm, *, kind: str, visible, acting_user):
    """Save a valid form in one transaction: the object must be visible to the user afterwards (else
    nothing is kept and PermissionDenied is raised), and an audit row says who entered what."""
    with transaction.atomic():
        obj = form.save()
        if not visible.filter(pk=obj.pk).exists():
            raise PermissionDenied(_("Эти сведения вне вашей организации."))
        organisation = getattr(obj, "organisation", None) or obj.teacher.school
        AuditEntry.objects.create(
            user=acting_user, action=f"enter:{kind}", object_type=obj._meta.label_lower, object_id=str(obj.pk),
            organisation=organisation, details={"text": str(obj)},
        )
    return obj
