"""Stage 5, stored: methodological help. Courses (КПК) with their modules, enrolments and questionnaires;
teachers' requests and the method service's answers; development routes (ИОМ) built from deficits;
mentoring between teachers and mentor-school pairings; events of every kind with attendance and
satisfaction.

Stage 6 measures the effect of this help on the results: a course by its `content_elements`,
`academic_year`, `subject` and the teachers of its `enrolments`; a route by its teacher, year and items;
mentoring and pairings by their people, schools, year and content elements. Keep those names.

Access: courses and events are a catalogue — seen by the users of their provider's or organiser's
subtree and by everyone inside the organisation they are meant for (`audience`, e.g. the region an
institute serves); everything about a named teacher (enrolment, request, route, attendance, mentoring)
only by his school's subtree and by the teacher himself."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from metodist.analysis.models import AnalysisRun, DeficitProfile, ProblemField
from metodist.collection.models import CompetenceArea, Survey
from metodist.core.access import VisibleManager, VisibleQuerySet, _roles_of, ancestor_paths
from metodist.core.models import AcademicYear, Organisation, Subject, Teacher
from metodist.reference.models import ContentElement


class ScopedQuerySet(VisibleQuerySet):
    """`visible_to` over several organisation paths (a pairing is seen from either school) and, for a
    catalogue, an `audience`: an object meant for an organisation is seen inside it, from above it and
    from below it (a course for the region is seen by a school of the region). A teacher sees his own
    (`teacher_lookups`) and the catalogue meant for his school."""

    org_path_lookups: tuple[str, ...] = ()
    audience_lookup: str | None = None
    teacher_lookups: tuple[str, ...] = ()

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        condition = Q()
        granted = False
        for role in _roles_of(user):
            path = role.organisation.path
            if self.audience_lookup is not None:
                condition |= Q(**{f"{self.audience_lookup}__path__in": ancestor_paths(path)})
                condition |= Q(**{f"{self.audience_lookup}__path__startswith": path})
            if role.role == "teacher" and self.teacher_lookups:
                teacher = getattr(user, "teacher", None)
                if teacher is None:
                    granted = granted or self.audience_lookup is not None
                    continue
                for lookup in self.teacher_lookups:
                    own = self.model._base_manager.filter(**{lookup: teacher.pk}).values("pk")
                    condition |= Q(pk__in=own)
            else:
                for lookup in self.org_path_lookups:
                    condition |= Q(**{f"{lookup}__startswith": path})
            granted = True
        if not granted:
            return self.none()
        return self.filter(condition)


# --- courses -------------------------------------------------------------------------------------------


class CourseFormat(models.TextChoices):
    IN_PERSON = "in_person", _("очная")
    DISTANCE = "distance", _("дистанционная")
    MIXED = "mixed", _("очно-дистанционная")
    FIELD = "field", _("выездные занятия")


class CourseQuerySet(ScopedQuerySet):
    org_path_lookups = ("provider__path",)
    audience_lookup = "audience"


class Course(models.Model):
    """A professional development course (КПК): 72 hours with a 48-hour subject module, say, run by the
    institute for the teachers of a region, aimed at named deficits (content elements, competence areas)."""

    title = models.CharField(_("название"), max_length=500)
    provider = models.ForeignKey(Organisation, models.PROTECT, related_name="courses", verbose_name=_("кто проводит"),
                                 help_text=_("Институт развития образования или методическая служба."))
    audience = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("для педагогов"),
                                 help_text=_("Регион, муниципалитет или школа, чьим педагогам предназначен курс."))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    starts = models.DateField(_("начало"))
    ends = models.DateField(_("окончание"))
    hours = models.PositiveSmallIntegerField(_("объём, ч"))
    format = models.CharField(_("форма обучения"), max_length=16, choices=CourseFormat.choices,
                              default=CourseFormat.MIXED)
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    content_elements = models.ManyToManyField(ContentElement, blank=True, related_name="courses",
                                              verbose_name=_("элементы содержания, на которые направлен курс"))
    competence_areas = models.JSONField(_("области компетенций"), default=list, blank=True,
                                        help_text=_("Список кодов: subject, methodological, psychological, …"))
    deficits = models.TextField(_("на какие дефициты направлен"), blank=True)
    description = models.TextField(_("содержание"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("создал"))
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    objects = VisibleManager.from_queryset(CourseQuerySet)()

    class Meta:
        verbose_name = _("курс повышения квалификации")
        verbose_name_plural = _("курсы повышения квалификации")
        ordering = ["-academic_year__start_year", "starts", "title", "pk"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.audience_id is None and self.provider_id is not None:
            self.audience_id = self.provider.parent_id or self.provider_id
        super().save(*args, **kwargs)

    def competence_area_labels(self) -> list[str]:
        labels = dict(CompetenceArea.choices)
        return [str(labels.get(a, a)) for a in self.competence_areas or []]


class ModuleKind(models.TextChoices):
    INVARIANT = "invariant", _("инвариантный")
    SUBJECT = "subject", _("предметный")
    VARIABLE = "variable", _("вариативный")
    PRACTICE = "practice", _("стажировка")


class ModuleQuerySet(ScopedQuerySet):
    org_path_lookups = ("course__provider__path",)
    audience_lookup = "course__audience"


class CourseModule(models.Model):
    course = models.ForeignKey(Course, models.CASCADE, related_name="modules", verbose_name=_("курс"))
    position = models.PositiveSmallIntegerField(_("№"), default=0)
    title = models.CharField(_("модуль"), max_length=500)
    hours = models.PositiveSmallIntegerField(_("часов"))
    kind = models.CharField(_("вид модуля"), max_length=16, choices=ModuleKind.choices, default=ModuleKind.SUBJECT)

    objects = VisibleManager.from_queryset(ModuleQuerySet)()

    class Meta:
        verbose_name = _("модуль курса")
        verbose_name_plural = _("модули курсов")
        ordering = ["course", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.hours} ч)"


class EnrolmentStatus(models.TextChoices):
    APPLIED = "applied", _("подана заявка")
    ENROLLED = "enrolled", _("зачислен")
    COMPLETED = "completed", _("окончил")
    DROPPED = "dropped", _("отчислен")


class TeacherScopedQuerySet(VisibleQuerySet):
    org_path_lookup = "teacher__school__path"
    teacher_lookup = "teacher"


class Enrolment(models.Model):
    course = models.ForeignKey(Course, models.CASCADE, related_name="enrolments", verbose_name=_("курс"))
    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="enrolments", verbose_name=_("учитель"))
    status = models.CharField(_("состояние"), max_length=16, choices=EnrolmentStatus.choices,
                              default=EnrolmentStatus.ENROLLED)
    applied_at = models.DateTimeField(_("заявка"), auto_now_add=True)
    completed_at = models.DateField(_("окончил"), null=True, blank=True)
    final_work = models.CharField(_("итоговая работа"), max_length=500, blank=True)
    grade = models.CharField(_("итоговая оценка"), max_length=64, blank=True)
    note = models.CharField(_("примечание"), max_length=500, blank=True)

    objects = VisibleManager.from_queryset(TeacherScopedQuerySet)()

    class Meta:
        verbose_name = _("слушатель курса")
        verbose_name_plural = _("слушатели курсов")
        ordering = ["course", "teacher__school__path", "teacher__full_name"]
        constraints = [models.UniqueConstraint(fields=["course", "teacher"], name="enrolment_unique")]

    def __str__(self) -> str:
        return f"{self.teacher}: {self.course}"


class CourseSurveyQuerySet(ScopedQuerySet):
    org_path_lookups = ("course__provider__path",)
    audience_lookup = "course__audience"


class CourseSurvey(models.Model):
    """A questionnaire of the course's participants (pre-course, entry, interim, final), imported in
    stage 1 as a Survey and linked here."""

    course = models.ForeignKey(Course, models.CASCADE, related_name="surveys", verbose_name=_("курс"))
    survey = models.OneToOneField(Survey, models.CASCADE, related_name="course_link", verbose_name=_("анкетирование"))

    objects = VisibleManager.from_queryset(CourseSurveyQuerySet)()

    class Meta:
        verbose_name = _("анкетирование слушателей курса")
        verbose_name_plural = _("анкетирования слушателей курсов")
        ordering = ["course", "survey__conducted_on"]

    def __str__(self) -> str:
        return f"{self.course}: {self.survey}"


# --- events --------------------------------------------------------------------------------------------


class EventKind(models.TextChoices):
    MASTER_CLASS = "master_class", _("мастер-класс")
    OPEN_LESSON = "open_lesson", _("открытый урок")
    SEMINAR = "seminar", _("семинар")
    ROUND_TABLE = "round_table", _("круглый стол")
    WEBINAR = "webinar", _("вебинар")
    FIELD_SESSION = "field_session", _("выездное тематическое занятие")
    SUBJECT_WEEK = "subject_week", _("предметная неделя")
    SUBJECT_DECADE = "subject_decade", _("предметная декада")
    MONTH = "month", _("месячник")
    OPEN_DOORS = "open_doors", _("день открытых дверей")
    CONSULTATION = "consultation", _("консультация")
    CONFERENCE = "conference", _("конференция")


class EventQuerySet(ScopedQuerySet):
    org_path_lookups = ("organiser__path",)
    audience_lookup = "audience"


class Event(models.Model):
    kind = models.CharField(_("форма"), max_length=16, choices=EventKind.choices)
    title = models.CharField(_("название"), max_length=500)
    topic = models.TextField(_("тема"), blank=True)
    organiser = models.ForeignKey(Organisation, models.PROTECT, related_name="events", verbose_name=_("организатор"))
    audience = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("для педагогов"),
                                 help_text=_("Чьим педагогам адресовано: муниципалитет, школа, регион."))
    audience_text = models.CharField(_("участники"), max_length=500, blank=True,
                                     help_text=_("Например: учителя математики 5–9 классов."))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    date = models.DateField(_("дата"))
    ends = models.DateField(_("дата окончания"), null=True, blank=True,
                            help_text=_("Для предметной недели, декады, месячника."))
    place = models.CharField(_("место"), max_length=500, blank=True)
    link = models.URLField(_("ссылка"), max_length=1000, blank=True)
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    presenter = models.ForeignKey(Teacher, models.SET_NULL, null=True, blank=True, related_name="presented_events",
                                  verbose_name=_("проводит (педагог)"))
    problem_fields = models.ManyToManyField(ProblemField, blank=True, related_name="+",
                                            verbose_name=_("проблемные поля"))
    content_elements = models.ManyToManyField(ContentElement, blank=True, related_name="events",
                                              verbose_name=_("элементы содержания"))
    result = models.TextField(_("итоги"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("создал"))
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)

    objects = VisibleManager.from_queryset(EventQuerySet)()

    class Meta:
        verbose_name = _("методическое мероприятие")
        verbose_name_plural = _("методические мероприятия")
        ordering = ["-date", "pk"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.academic_year_id is None and self.date is not None:
            start = self.date.year if self.date.month >= 9 else self.date.year - 1
            self.academic_year = AcademicYear.objects.get_or_create(start_year=start)[0]
        if self.audience_id is None and self.organiser_id is not None:
            organiser = self.organiser
            self.audience_id = organiser.parent_id if organiser.kind in ("institute", "method_service",
                                                                         "education_authority") and \
                organiser.parent_id else organiser.pk
        super().save(*args, **kwargs)


class EventAttendance(models.Model):
    event = models.ForeignKey(Event, models.CASCADE, related_name="attendance", verbose_name=_("мероприятие"))
    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="event_attendance", verbose_name=_("учитель"))
    attended = models.BooleanField(_("присутствовал"), default=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("удовлетворённость (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    feedback = models.CharField(_("отзыв"), max_length=1000, blank=True)

    objects = VisibleManager.from_queryset(TeacherScopedQuerySet)()

    class Meta:
        verbose_name = _("участник мероприятия")
        verbose_name_plural = _("участники мероприятий")
        ordering = ["event", "teacher__school__path", "teacher__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "teacher"], name="attendance_unique"),
            models.CheckConstraint(condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="attendance_satisfaction_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.teacher}: {self.event}"


# --- mentoring -----------------------------------------------------------------------------------------


class MentoringStatus(models.TextChoices):
    PLANNED = "planned", _("планируется")
    ACTIVE = "active", _("действует")
    COMPLETED = "completed", _("завершено")
    STOPPED = "stopped", _("прекращено")


class MentorshipQuerySet(ScopedQuerySet):
    org_path_lookups = ("mentee__school__path", "mentor__school__path")
    teacher_lookups = ("mentee", "mentor")


class Mentorship(models.Model):
    """Teacher-to-teacher mentoring (наставничество) for a year, on named topics."""

    mentor = models.ForeignKey(Teacher, models.CASCADE, related_name="mentoring", verbose_name=_("наставник"))
    mentee = models.ForeignKey(Teacher, models.CASCADE, related_name="mentored_by", verbose_name=_("наставляемый"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    starts = models.DateField(_("начало"))
    ends = models.DateField(_("окончание"), null=True, blank=True)
    goals = models.TextField(_("цели и задачи"), blank=True)
    content_elements = models.ManyToManyField(ContentElement, blank=True, related_name="mentorships",
                                              verbose_name=_("элементы содержания"))
    status = models.CharField(_("состояние"), max_length=16, choices=MentoringStatus.choices,
                              default=MentoringStatus.ACTIVE)
    result = models.TextField(_("итоги"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("создал"))

    objects = VisibleManager.from_queryset(MentorshipQuerySet)()

    class Meta:
        verbose_name = _("наставничество")
        verbose_name_plural = _("наставничество")
        ordering = ["-academic_year__start_year", "mentee__full_name", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(mentor=models.F("mentee")), name="mentorship_two_people")]

    def __str__(self) -> str:
        return f"{self.mentor} → {self.mentee}"


class MentorSchoolQuerySet(ScopedQuerySet):
    org_path_lookups = ("school__path", "mentor_school__path")


class MentorSchool(models.Model):
    """A strong school assigned to support a weak one for a year (школа-шеф), with their joint plan:
    the weak school's transition roadmap (stage 4) and the plan's text."""

    mentor_school = models.ForeignKey(Organisation, models.PROTECT, related_name="mentor_pairings",
                                      verbose_name=_("школа-шеф"))
    school = models.ForeignKey(Organisation, models.PROTECT, related_name="mentored_pairings",
                               verbose_name=_("школа, которой помогают"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    roadmap = models.ForeignKey("planning.Roadmap", models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("план перехода в эффективный режим работы"))
    plan = models.TextField(_("совместный план"), blank=True)
    content_elements = models.ManyToManyField(ContentElement, blank=True, related_name="mentor_pairings",
                                              verbose_name=_("элементы содержания"))
    starts = models.DateField(_("начало"), null=True, blank=True)
    ends = models.DateField(_("окончание"), null=True, blank=True)
    status = models.CharField(_("состояние"), max_length=16, choices=MentoringStatus.choices,
                              default=MentoringStatus.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("создал"))

    objects = VisibleManager.from_queryset(MentorSchoolQuerySet)()

    class Meta:
        verbose_name = _("школа-шеф")
        verbose_name_plural = _("школы-шефы")
        ordering = ["-academic_year__start_year", "school__path", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["mentor_school", "school", "academic_year"], name="mentor_school_unique"),
            models.CheckConstraint(condition=~Q(mentor_school=models.F("school")), name="mentor_school_two_schools"),
        ]

    def __str__(self) -> str:
        return f"{self.mentor_school} → {self.school}"


# --- teachers' requests ---------------------------------------------------------------------------------


class PreferredForm(models.TextChoices):
    CONSULTATION = "consultation", _("консультация методиста")
    COURSE = "course", _("курсы повышения квалификации")
    MENTORING = "mentoring", _("наставничество")
    EVENT = "event", _("мастер-класс, семинар, открытые уроки")
    ANY = "any", _("любая")


class RequestStatus(models.TextChoices):
    NEW = "new", _("новый")
    IN_WORK = "in_work", _("в работе")
    ANSWERED = "answered", _("дан ответ")
    CLOSED = "closed", _("закрыт")


class AssistanceRequest(models.Model):
    """A teacher's statement of his difficulties (запрос педагога) and the method service's answer with
    the help it offers: a course, an event, a mentor."""

    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="assistance_requests", verbose_name=_("учитель"))
    created_at = models.DateTimeField(_("подан"), auto_now_add=True)
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    competence_area = models.CharField(_("область затруднений"), max_length=32, choices=CompetenceArea.choices,
                                       default=CompetenceArea.METHODOLOGICAL)
    content_elements = models.ManyToManyField(ContentElement, blank=True, related_name="+",
                                              verbose_name=_("темы (элементы содержания)"))
    text = models.TextField(_("в чём затруднение"))
    preferred_form = models.CharField(_("какая помощь нужна"), max_length=16, choices=PreferredForm.choices,
                                      default=PreferredForm.ANY)
    status = models.CharField(_("состояние"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.NEW)
    answer = models.TextField(_("ответ методической службы"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("ответил"))
    answered_at = models.DateTimeField(_("дата ответа"), null=True, blank=True)
    help_course = models.ForeignKey(Course, models.SET_NULL, null=True, blank=True, related_name="requests",
                                    verbose_name=_("предложенный курс"))
    help_event = models.ForeignKey(Event, models.SET_NULL, null=True, blank=True, related_name="requests",
                                   verbose_name=_("предложенное мероприятие"))
    help_mentorship = models.ForeignKey(Mentorship, models.SET_NULL, null=True, blank=True, related_name="requests",
                                        verbose_name=_("наставничество"))

    objects = VisibleManager.from_queryset(TeacherScopedQuerySet)()

    class Meta:
        verbose_name = _("запрос педагога")
        verbose_name_plural = _("запросы педагогов")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text[:80]


# --- development routes (ИОМ) --------------------------------------------------------------------------


class RouteStatus(models.TextChoices):
    DRAFT = "draft", _("проект")
    APPROVED = "approved", _("утверждён")


class DevelopmentRoute(models.Model):
    """A teacher's individual development route (ИОМ) for a year: what he will do against his deficits."""

    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="routes", verbose_name=_("учитель"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    run = models.ForeignKey(AnalysisRun, models.SET_NULL, null=True, blank=True, related_name="+",
                            verbose_name=_("по итогам анализа"))
    title = models.CharField(_("название"), max_length=500)
    basis = models.TextField(_("основание: выявленные дефициты"), blank=True)
    status = models.CharField(_("состояние"), max_length=16, choices=RouteStatus.choices, default=RouteStatus.DRAFT)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("утвердил"))
    approved_at = models.DateTimeField(_("утверждён"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("составил"))
    created_at = models.DateTimeField(_("составлен"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    objects = VisibleManager.from_queryset(TeacherScopedQuerySet)()

    class Meta:
        verbose_name = _("индивидуальный образовательный маршрут")
        verbose_name_plural = _("индивидуальные образовательные маршруты")
        ordering = ["-academic_year__start_year", "teacher__school__path", "teacher__full_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["teacher", "academic_year"], name="route_unique")]

    def __str__(self) -> str:
        return self.title

    @property
    def content_elements(self):
        """The content elements the route's items aim at (what stage 6 measures the route on)."""
        return ContentElement.objects.filter(pk__in=self.items.filter(content_element__isnull=False).values(
            "content_element_id"))


class ItemKind(models.TextChoices):
    COURSE = "course", _("курсы повышения квалификации")
    EVENT = "event", _("методическое мероприятие")
    MENTORSHIP = "mentorship", _("наставничество")
    PRACTICE = "practice", _("изучение практики")
    SELF_STUDY = "self_study", _("самообразование")


class ItemStatus(models.TextChoices):
    PLANNED = "planned", _("запланировано")
    DONE = "done", _("выполнено")


class RouteItemQuerySet(VisibleQuerySet):
    org_path_lookup = "route__teacher__school__path"
    teacher_lookup = "route__teacher"


class RouteItem(models.Model):
    route = models.ForeignKey(DevelopmentRoute, models.CASCADE, related_name="items", verbose_name=_("маршрут"))
    position = models.PositiveSmallIntegerField(_("№"), default=0)
    kind = models.CharField(_("вид"), max_length=16, choices=ItemKind.choices)
    title = models.CharField(_("мероприятие"), max_length=1000)
    form = models.CharField(_("форма"), max_length=255, blank=True)
    link_id = models.PositiveIntegerField(_("номер связанного"), null=True, blank=True,
                                          help_text=_("Курс, мероприятие, наставничество или практика."))
    mentor = models.ForeignKey(Teacher, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("предлагаемый наставник"))
    due = models.DateField(_("срок"), null=True, blank=True)
    result = models.CharField(_("результат"), max_length=1000, blank=True)
    status = models.CharField(_("состояние"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.PLANNED)
    done_at = models.DateField(_("выполнено"), null=True, blank=True)
    deficit = models.ForeignKey(DeficitProfile, models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("дефицит"))
    content_element = models.ForeignKey(ContentElement, models.SET_NULL, null=True, blank=True, related_name="+",
                                        verbose_name=_("элемент содержания"))
    key = models.CharField(_("ключ"), max_length=100, blank=True, help_text=_("Откуда пункт: не повторять его."))

    objects = VisibleManager.from_queryset(RouteItemQuerySet)()

    class Meta:
        verbose_name = _("пункт маршрута")
        verbose_name_plural = _("пункты маршрутов")
        ordering = ["route", "position", "pk"]

    def __str__(self) -> str:
        return self.title
