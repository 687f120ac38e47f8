"""Forms of stage 5. Every choice of an organisation, teacher, course, event or roadmap is limited to what
the user sees (`visible_to`)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metodist.analysis.models import AnalysisRun, ProblemField, RunStatus
from metodist.assistance.models import (
    AssistanceRequest,
    Course,
    CourseModule,
    EnrolmentStatus,
    Event,
    EventKind,
    ItemKind,
    ItemStatus,
    MentorSchool,
    Mentorship,
    RequestStatus,
    RouteItem,
)
from metodist.collection.models import CompetenceArea, Survey
from metodist.core.models import AcademicYear, Organisation, OrganisationKind, Subject, Teacher
from metodist.reference.models import ContentElement


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def element_label(e: ContentElement) -> str:
    name = e.name if len(e.name) <= 90 else e.name[:90] + "…"
    return f"{e.codifier} · {e.code} {name}"


def teacher_label(t: Teacher) -> str:
    return f"{t.full_name} ({t.school.short_name})"


def visible_teachers(user):
    return Teacher.objects.visible_to(user).select_related("school").order_by("school__path", "full_name")


def _elements(field, subject=None):
    queryset = ContentElement.objects.all().order_by("codifier", "code")
    if subject is not None:
        queryset = queryset.filter(subject=subject)
    field.queryset = queryset
    field.label_from_instance = element_label
    field.widget.attrs["size"] = 10


def _problem_fields(field, user):
    """A choice of the flagged content-element problem fields of finished analyses the user sees, newest
    year first (an event's or a community session's «обсуждались проблемные поля»)."""
    field.queryset = ProblemField.objects.visible_to(user).filter(
        flagged=True, run__status=RunStatus.DONE, group_level__in=["school", "municipality", "region"],
        field_kind="content_element").select_related("organisation", "content_element", "assessment",
                                                     "run__academic_year").order_by(
        "-run__academic_year__start_year", "organisation__path", "-priority")
    field.label_from_instance = lambda f: (
        f"{f.run.academic_year}: {f.organisation.short_name}, {f.assessment.title}, {f.topic[:70]}")
    field.widget.attrs["size"] = 8


def _organisations(field, queryset):
    field.queryset = queryset.order_by("path")
    field.label_from_instance = lambda o: "· " * o.depth + o.short_name


class CourseForm(forms.ModelForm):
    competence_areas = forms.MultipleChoiceField(label=_("Области компетенций"), choices=CompetenceArea.choices,
                                                 required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Course
        fields = ["title", "provider", "audience", "academic_year", "starts", "ends", "hours", "format", "subject",
                  "content_elements", "competence_areas", "deficits", "description"]
        widgets = {"starts": DateInput(), "ends": DateInput(), "deficits": forms.Textarea(attrs={"rows": 2}),
                   "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _organisations(self.fields["provider"], Organisation.objects.filter(
            kind__in=[OrganisationKind.INSTITUTE, OrganisationKind.METHOD_SERVICE]))
        _organisations(self.fields["audience"], Organisation.objects.visible_to(user).filter(
            kind__in=[OrganisationKind.REGION, OrganisationKind.MUNICIPALITY, OrganisationKind.SCHOOL]))
        _elements(self.fields["content_elements"])

    def clean(self):
        data = super().clean()
        if data.get("starts") and data.get("ends") and data["starts"] > data["ends"]:
            self.add_error("ends", _("Окончание раньше начала."))
        if self.instance.pk and data.get("hours") is not None:
            total = sum(m.hours for m in self.instance.modules.all())
            if total > data["hours"]:
                self.add_error("hours", _("Модули курса вместе уже составляют {total} ч.").format(total=total))
        return data


class ModuleForm(forms.ModelForm):
    class Meta:
        model = CourseModule
        fields = ["title", "hours", "kind"]


class EnrolForm(forms.Form):
    teachers = forms.ModelMultipleChoiceField(label=_("Учителя"), queryset=Teacher.objects.none())
    status = forms.ChoiceField(label=_("Состояние"), choices=EnrolmentStatus.choices, initial=EnrolmentStatus.ENROLLED)

    def __init__(self, *args, user, course, **kwargs):
        super().__init__(*args, **kwargs)
        teachers = visible_teachers(user)
        if course.subject_id:
            teachers = teachers.filter(subjects=course.subject_id).distinct()
        self.fields["teachers"].queryset = teachers.exclude(enrolments__course=course)
        self.fields["teachers"].label_from_instance = teacher_label
        self.fields["teachers"].widget.attrs["size"] = 12


class EnrolmentForm(forms.Form):
    status = forms.ChoiceField(label=_("Состояние"), choices=EnrolmentStatus.choices)
    completed_at = forms.DateField(label=_("Окончил"), required=False, widget=DateInput())
    final_work = forms.CharField(label=_("Итоговая работа"), required=False, max_length=500)
    grade = forms.CharField(label=_("Итоговая оценка"), required=False, max_length=64)


class SurveyLinkForm(forms.Form):
    survey = forms.ModelChoiceField(label=_("Анкетирование"), queryset=Survey.objects.none())

    def __init__(self, *args, user, course, **kwargs):
        super().__init__(*args, **kwargs)
        from django.db.models import Q

        self.fields["survey"].queryset = Survey.objects.filter(
            Q(pk__in=Survey.objects.visible_to(user).values("pk")) | Q(organisation=course.provider)).filter(
            course_link__isnull=True).order_by("-conducted_on", "title")
        self.fields["survey"].label_from_instance = lambda s: f"{s.title} — {s.get_stage_display()}, " \
                                                              f"{s.conducted_on:%d.%m.%Y}"


class RequestForm(forms.ModelForm):
    class Meta:
        model = AssistanceRequest
        fields = ["subject", "competence_area", "content_elements", "text", "preferred_form"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, teacher, **kwargs):
        super().__init__(*args, **kwargs)
        subjects = teacher.subjects.all()
        self.fields["subject"].queryset = subjects if subjects.exists() else Subject.objects.all()
        _elements(self.fields["content_elements"])
        self.fields["content_elements"].queryset = ContentElement.objects.filter(
            subject__in=self.fields["subject"].queryset).order_by("codifier", "code")
        self.fields["content_elements"].help_text = _("Необязательно: темы, с которыми связано затруднение.")


class AnswerForm(forms.Form):
    status = forms.ChoiceField(label=_("Состояние"), choices=[
        (RequestStatus.IN_WORK, RequestStatus.IN_WORK.label), (RequestStatus.ANSWERED, RequestStatus.ANSWERED.label),
        (RequestStatus.CLOSED, RequestStatus.CLOSED.label)], initial=RequestStatus.ANSWERED)
    answer = forms.CharField(label=_("Ответ"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    course = forms.ModelChoiceField(label=_("Предложить курс"), queryset=Course.objects.none(), required=False)
    event = forms.ModelChoiceField(label=_("Предложить мероприятие"), queryset=Event.objects.none(), required=False)
    mentorship = forms.ModelChoiceField(label=_("Наставничество"), queryset=Mentorship.objects.none(),
                                        required=False)

    def __init__(self, *args, user, item, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.visible_to(user).order_by("-starts")
        self.fields["event"].queryset = Event.objects.visible_to(user).order_by("-date")
        self.fields["event"].label_from_instance = lambda e: f"{e.date:%d.%m.%Y} {e.get_kind_display()}: {e.title}"
        self.fields["mentorship"].queryset = Mentorship.objects.visible_to(user).filter(
            mentee=item.teacher).select_related("mentor", "mentee")


class RouteProposeForm(forms.Form):
    teacher = forms.ModelChoiceField(label=_("Учитель"), queryset=Teacher.objects.none())
    run = forms.ModelChoiceField(label=_("По итогам анализа"), queryset=AnalysisRun.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = visible_teachers(user)
        self.fields["teacher"].label_from_instance = teacher_label
        runs = AnalysisRun.objects.filter(status=RunStatus.DONE).select_related("academic_year", "scope").order_by(
            "-academic_year__start_year", "-finished_at")
        self.fields["run"].queryset = runs
        self.fields["run"].label_from_instance = lambda r: _("{year}: {scope}, {date}").format(
            year=r.academic_year, scope=r.scope.short_name,
            date=timezone.localtime(r.finished_at).strftime("%d.%m.%Y") if r.finished_at else "")

    def clean(self):
        data = super().clean()
        teacher, run = data.get("teacher"), data.get("run")
        if teacher and run and not teacher.school.path.startswith(run.scope.path):
            self.add_error("run", _("Этот анализ не охватывает школу учителя."))
        return data


class RouteItemForm(forms.ModelForm):
    course = forms.ModelChoiceField(label=_("Курс"), queryset=Course.objects.none(), required=False,
                                    help_text=_("Для пункта «курсы повышения квалификации»."))
    event = forms.ModelChoiceField(label=_("Мероприятие"), queryset=Event.objects.none(), required=False,
                                   help_text=_("Для пункта «методическое мероприятие»."))
    mentorship = forms.ModelChoiceField(label=_("Наставничество"), queryset=Mentorship.objects.none(),
                                        required=False)

    class Meta:
        model = RouteItem
        fields = ["kind", "title", "form", "due", "result", "status"]
        widgets = {"due": DateInput(), "title": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, route, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.visible_to(user).order_by("-starts")
        self.fields["event"].queryset = Event.objects.visible_to(user).order_by("-date")
        self.fields["event"].label_from_instance = lambda e: f"{e.date:%d.%m.%Y} {e.get_kind_display()}: {e.title}"
        self.fields["mentorship"].queryset = Mentorship.objects.visible_to(user).filter(mentee=route.teacher)
        item = self.instance
        if item.pk and item.link_id:
            name = {ItemKind.COURSE: "course", ItemKind.EVENT: "event", ItemKind.MENTORSHIP: "mentorship"}.get(
                item.kind)
            if name:
                self.fields[name].initial = item.link_id

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        links = {ItemKind.COURSE: data.get("course"), ItemKind.EVENT: data.get("event"),
                 ItemKind.MENTORSHIP: data.get("mentorship")}
        for other, value in links.items():
            if value is not None and other != kind:
                self.add_error(None, _("Связанный курс, мероприятие или наставничество должны соответствовать виду "
                                       "пункта."))
                break
        self.link = links.get(kind)
        return data


class ItemStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Состояние"), choices=ItemStatus.choices)
    result = forms.CharField(label=_("Результат"), required=False, max_length=1000)


class MentorshipForm(forms.ModelForm):
    class Meta:
        model = Mentorship
        fields = ["mentor", "mentee", "academic_year", "subject", "starts", "ends", "goals", "content_elements",
                  "status", "result"]
        widgets = {"starts": DateInput(), "ends": DateInput(), "goals": forms.Textarea(attrs={"rows": 3}),
                   "result": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("mentor", "mentee"):
            self.fields[name].queryset = visible_teachers(user)
            self.fields[name].label_from_instance = teacher_label
        self.fields["academic_year"].queryset = AcademicYear.objects.order_by("-start_year")
        _elements(self.fields["content_elements"])

    def clean(self):
        data = super().clean()
        if data.get("mentor") and data.get("mentor") == data.get("mentee"):
            self.add_error("mentee", _("Наставник и наставляемый — разные учителя."))
        if data.get("starts") and data.get("ends") and data["starts"] > data["ends"]:
            self.add_error("ends", _("Окончание раньше начала."))
        return data


class MentorSchoolForm(forms.ModelForm):
    class Meta:
        model = MentorSchool
        fields = ["mentor_school", "school", "academic_year", "roadmap", "plan", "content_elements", "starts", "ends",
                  "status"]
        widgets = {"starts": DateInput(), "ends": DateInput(), "plan": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from metodist.planning.models import Roadmap, RoadmapKind

        schools = Organisation.objects.visible_to(user).filter(kind=OrganisationKind.SCHOOL)
        for name in ("mentor_school", "school"):
            self.fields[name].queryset = schools.order_by("short_name")
            self.fields[name].label_from_instance = lambda o: f"{o.short_name} ({o.code})"
        self.fields["academic_year"].queryset = AcademicYear.objects.order_by("-start_year")
        self.fields["roadmap"].queryset = Roadmap.objects.visible_to(user).filter(
            kind=RoadmapKind.SCHOOL_TRANSITION).select_related("organisation")
        _elements(self.fields["content_elements"])

    def clean(self):
        data = super().clean()
        if data.get("mentor_school") and data.get("mentor_school") == data.get("school"):
            self.add_error("school", _("Школа-шеф и школа, которой помогают, — разные школы."))
        roadmap = data.get("roadmap")
        if roadmap is not None and data.get("school") and roadmap.organisation_id != data["school"].pk:
            self.add_error("roadmap", _("Это план перехода другой школы."))
        return data


class EventForm(forms.ModelForm):
    link = forms.URLField(label=_("Ссылка"), max_length=1000, required=False, assume_scheme="https")

    class Meta:
        model = Event
        fields = ["kind", "title", "topic", "organiser", "audience", "audience_text", "date", "ends", "place", "link",
                  "subject", "presenter", "problem_fields", "content_elements", "result"]
        widgets = {"date": DateInput(), "ends": DateInput(), "topic": forms.Textarea(attrs={"rows": 2}),
                   "result": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from django.db.models import Q

        visible = Organisation.objects.visible_to(user)
        _organisations(self.fields["organiser"], Organisation.objects.filter(
            Q(pk__in=visible.values("pk")) | Q(kind=OrganisationKind.INSTITUTE)))
        _organisations(self.fields["audience"], visible.filter(
            kind__in=[OrganisationKind.REGION, OrganisationKind.MUNICIPALITY, OrganisationKind.SCHOOL]))
        self.fields["presenter"].queryset = visible_teachers(user)
        self.fields["presenter"].label_from_instance = teacher_label
        _problem_fields(self.fields["problem_fields"], user)
        self.fields["problem_fields"].required = False
        _elements(self.fields["content_elements"])

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("ends") and data["date"] > data["ends"]:
            self.add_error("ends", _("Окончание раньше начала."))
        return data


class EventFilter(forms.Form):
    kind = forms.ChoiceField(label=_("Форма"), required=False)
    subject = forms.ModelChoiceField(label=_("Предмет"), queryset=Subject.objects.all(), required=False,
                                     to_field_name="code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("все")), *EventKind.choices]


class AttendanceForm(forms.Form):
    teachers = forms.ModelMultipleChoiceField(label=_("Учителя"), queryset=Teacher.objects.none())
    attended = forms.BooleanField(label=_("Присутствовали"), required=False, initial=True)
    satisfaction = forms.TypedChoiceField(
        label=_("Удовлетворённость (1–5)"), required=False, coerce=int, empty_value=None,
        choices=[("", "—"), *[(n, str(n)) for n in range(1, 6)]])
    feedback = forms.CharField(label=_("Отзыв"), required=False, max_length=1000)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teachers"].queryset = visible_teachers(user)
        self.fields["teachers"].label_from_instance = teacher_label
        self.fields["teachers"].widget.attrs["size"] = 12

    def clean(self):
        data = super().clean()
        if data.get("satisfaction") is not None and not data.get("attended"):
            self.add_error("satisfaction", _("Удовлетворённость ставит тот, кто присутствовал."))
        return data


class RequestFilter(forms.Form):
    status = forms.ChoiceField(label=_("Состояние"), required=False)
    area = forms.ChoiceField(label=_("Область"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("все")), *RequestStatus.choices]
        self.fields["area"].choices = [("", _("все")), *CompetenceArea.choices]
