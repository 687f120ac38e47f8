"""Forms of stage 4: a new roadmap from an analysis run, an action, an indicator's target, the approval
steps, a recommendation's text and status. Every choice of organisation, teacher or run is limited to
what the user sees (`visible_to`)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metodist.analysis.models import AnalysisRun, RunStatus
from metodist.core.models import MethodAssociation, Organisation, OrganisationKind, Subject, Teacher
from metodist.planning.models import (
    ActionStatus,
    Recommendation,
    RecommendationStatus,
    RoadmapAction,
    RoadmapKind,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class NewRoadmapForm(forms.Form):
    kind = forms.ChoiceField(label=_("Вид"), choices=RoadmapKind.choices)
    organisation = forms.ModelChoiceField(label=_("Организация"), queryset=Organisation.objects.none(),
                                          to_field_name="code")
    subject = forms.ModelChoiceField(label=_("Предмет"), queryset=Subject.objects.all(), required=False,
                                     to_field_name="code",
                                     help_text=_("Обязателен для карты по предмету; для остальных — по желанию."))
    run = forms.ModelChoiceField(label=_("По итогам анализа"), queryset=AnalysisRun.objects.none())
    mentor_school = forms.ModelChoiceField(
        label=_("Школа-наставник"), queryset=Organisation.objects.none(), required=False, to_field_name="code",
        help_text=_("Для плана перехода школы с низкими результатами."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        visible = Organisation.objects.visible_to(user).filter(
            kind__in=[OrganisationKind.SCHOOL, OrganisationKind.MUNICIPALITY]).order_by("path")
        self.fields["organisation"].queryset = visible
        self.fields["organisation"].label_from_instance = lambda o: "· " * o.depth + o.short_name
        self.fields["mentor_school"].queryset = Organisation.objects.filter(kind=OrganisationKind.SCHOOL).order_by(
            "short_name")
        self.fields["mentor_school"].label_from_instance = lambda o: f"{o.short_name} ({o.code})"
        runs = AnalysisRun.objects.filter(status=RunStatus.DONE).select_related("academic_year", "scope").order_by(
            "-academic_year__start_year", "-finished_at")
        self.fields["run"].queryset = runs
        self.fields["run"].label_from_instance = lambda r: _("{year}: {scope}, {date}").format(
            year=r.academic_year, scope=r.scope.short_name, date=timezone.localtime(r.finished_at).strftime("%d.%m.%Y") if r.finished_at else "")
        first = runs.first()
        if first is not None:
            self.fields["run"].initial = first.pk

    def clean(self):
        data = super().clean()
        run, organisation = data.get("run"), data.get("organisation")
        if run and organisation and not organisation.path.startswith(run.scope.path):
            self.add_error("run", _("Этот анализ не охватывает выбранную организацию."))
        if data.get("kind") == RoadmapKind.SCHOOL_SUBJECT and not data.get("subject"):
            self.add_error("subject", _("Укажите предмет карты совершенствования."))
        return data


class ActionForm(forms.ModelForm):
    evidence_link = forms.URLField(label=_("Подтверждение (ссылка)"), required=False, max_length=1000,
                                   assume_scheme="https")

    class Meta:
        model = RoadmapAction
        fields = ["title", "owner_teacher", "owner_organisation", "owner_text", "start", "due", "status",
                  "expected_result", "indicator", "evidence_link", "evidence_file"]
        widgets = {"start": DateInput(), "due": DateInput(), "title": forms.Textarea(attrs={"rows": 2}),
                   "expected_result": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, roadmap, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.roadmap = roadmap
        root = roadmap.organisation
        self.fields["owner_teacher"].queryset = Teacher.objects.visible_to(user).filter(
            school__path__startswith=root.path).order_by("full_name")
        self.fields["owner_organisation"].queryset = Organisation.objects.filter(
            path__startswith=(root.parent.path if root.parent_id else root.path)).order_by("path")
        self.fields["indicator"].queryset = roadmap.indicators.all()
        self.fields["indicator"].label_from_instance = lambda i: f"{i.position}. {i.goal[:120]}"

    def clean(self):
        data = super().clean()
        if not (data.get("owner_teacher") or data.get("owner_organisation") or data.get("owner_text")):
            raise forms.ValidationError(_("Укажите ответственного: учителя, организацию или должность."))
        if data.get("start") and data.get("due") and data["start"] > data["due"]:
            self.add_error("due", _("Срок раньше начала."))
        if data.get("status") == ActionStatus.DONE and not (data.get("evidence_link") or data.get("evidence_file")
                                                            or (self.instance.pk and self.instance.evidence_file)):
            self.add_error("evidence_link", _("Для выполненного мероприятия приложите подтверждение: ссылку или файл."))
        return data


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Состояние"), choices=ActionStatus.choices)
    evidence_link = forms.URLField(label=_("Подтверждение (ссылка)"), required=False, assume_scheme="https")


class TargetForm(forms.Form):
    target = forms.FloatField(label=_("Целевое значение, %"), min_value=0, max_value=100)


class DiscussForm(forms.Form):
    association = forms.ModelChoiceField(label=_("Методобъединение"), queryset=MethodAssociation.objects.none(),
                                         required=False)
    protocol = forms.CharField(label=_("Протокол"), widget=forms.Textarea(attrs={"rows": 2}),
                               help_text=_("Номер и дата протокола, решение."))

    def __init__(self, *args, roadmap, user, **kwargs):
        super().__init__(*args, **kwargs)
        root = roadmap.organisation.parent if roadmap.organisation.kind == "school" and roadmap.organisation.parent_id \
            else roadmap.organisation
        self.fields["association"].queryset = MethodAssociation.objects.visible_to(user).filter(
            organisation__path__startswith=root.path)


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Комментарий"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RecommendationForm(forms.ModelForm):
    class Meta:
        model = Recommendation
        fields = ["text", "status"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}


class RecommendationFilter(forms.Form):
    addressee = forms.ChoiceField(label=_("Кому"), required=False)
    status = forms.ChoiceField(label=_("Состояние"), required=False)

    def __init__(self, *args, **kwargs):
        from metodist.planning.models import Addressee

        super().__init__(*args, **kwargs)
        self.fields["addressee"].choices = [("", _("всем")), *Addressee.choices]
        self.fields["status"].choices = [("", _("все")), *RecommendationStatus.choices]


class IndicatorForm(forms.Form):
    """A goal added by hand — still a metric the system measures: a work (its family is measured every year),
    whose results (the roadmap's organisation or one below it), optionally a content element the work's tasks
    check, the statistic; the baseline is measured on the chosen work, the target suggested when left empty."""

    assessment = forms.ModelChoiceField(label=_("Работа (базовый год)"), queryset=None, to_field_name="code")
    scope = forms.ModelChoiceField(label=_("Чьи результаты"), queryset=None, to_field_name="code")
    statistic = forms.ChoiceField(label=_("Показатель"), choices=[])
    content_element = forms.CharField(label=_("Элемент содержания (код)"), required=False, max_length=32,
                                      help_text=_("Код по кодификатору работы, например 3 или 1.2; пусто — вся работа."))
    target = forms.FloatField(label=_("Целевое значение, %"), required=False, min_value=0, max_value=100,
                              help_text=_("Пусто — предложит система: половина разрыва до значения сравнения."))
    goal = forms.CharField(label=_("Цель"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, roadmap, **kwargs):
        from metodist.planning.models import Statistic
        from metodist.reference.models import Assessment

        super().__init__(*args, **kwargs)
        self.roadmap = roadmap
        works = Assessment.objects.filter(works__school__path__startswith=roadmap.organisation.path).distinct()
        if roadmap.subject_id:
            works = works.filter(subject=roadmap.subject)
        self.fields["assessment"].queryset = works.select_related("subject").order_by("-year", "grade", "code")
        self.fields["assessment"].label_from_instance = lambda a: f"{a.title} ({a.code})"
        self.fields["scope"].queryset = Organisation.objects.filter(
            path__startswith=roadmap.organisation.path,
            kind__in=[OrganisationKind.SCHOOL, OrganisationKind.MUNICIPALITY]).order_by("path")
        self.fields["scope"].initial = roadmap.organisation.code
        self.fields["statistic"].choices = Statistic.choices

    def clean(self):
        from metodist.reference.models import ContentElement

        data = super().clean()
        assessment, code = data.get("assessment"), (data.get("content_element") or "").strip()
        data["element"] = None
        if assessment and code:
            element = ContentElement.objects.filter(task__assessment=assessment, code=code).distinct().first()
            if element is None:
                self.add_error("content_element", _("Задания этой работы не проверяют элемент с таким кодом."))
            elif data.get("statistic") != "solve_rate":
                self.add_error("statistic", _("Для элемента содержания показатель — процент выполнения заданий."))
            data["element"] = element
        return data
