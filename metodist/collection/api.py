"""Uploads over the API: the list and detail of imported files the user may see, and POST of a file, which
runs the same import as the pages and the CLI (`collection.importing.import_file`)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from metodist.collection.forms import CREATE_ORGANISATION_ROLES, UPLOAD_ROLES
from metodist.collection.importing import FORMATS, ImportOptions, import_file
from metodist.collection.models import Upload, UploadStatus
from metodist.core.access import _roles_of
from metodist.core.api import HasAnyRoleOf, MetodistViewSet, QueryFilter, role_names, subtree_of
from metodist.core.models import Organisation, OrganisationKind


class ProblemSerializer(serializers.Serializer):
    file = serializers.CharField()
    sheet = serializers.CharField(allow_blank=True)
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    severity = serializers.CharField(required=False)


class UploadSerializer(serializers.ModelSerializer):
    assessment = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    errors = ProblemSerializer(many=True, read_only=True)

    class Meta:
        model = Upload
        fields = ["id", "file_name", "format", "assessment", "organisation", "uploaded_by", "created_at",
                  "finished_at", "status", "stage", "progress", "message", "counts", "errors", "replaces", "size",
                  "checksum"]


class UploadRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("Файл с результатами или данными (XLSX, XLS, CSV)."))
    format = serializers.ChoiceField(choices=sorted(FORMATS), required=False,
                                     help_text=gettext_lazy("Формат файла; без него определяется по содержимому."))
    assessment = serializers.CharField(required=False, help_text=gettext_lazy("Код работы, например vpr-2021-ma-5."))
    school = serializers.CharField(required=False, help_text=gettext_lazy("Код школы, если файл одной школы."))
    dry_run = serializers.BooleanField(default=False, help_text=gettext_lazy("Только проверить, не загружать."))
    valid_rows_only = serializers.BooleanField(
        default=False, help_text=gettext_lazy("Загрузить верные строки, а строки с ошибками пропустить."))
    create_organisations = serializers.BooleanField(default=False, help_text=gettext_lazy(
        "Добавить в реестр школы из файла, которых в нём нет (администратор региона, методист)."))


class UploadOutcomeSerializer(serializers.Serializer):
    status = serializers.CharField()
    format = serializers.CharField(allow_blank=True)
    file = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    counts = serializers.DictField()
    errors = ProblemSerializer(many=True)
    warnings = ProblemSerializer(many=True)
    upload = UploadSerializer(allow_null=True)


class UploadViewSet(MetodistViewSet):
    """Imported files of the user's subtree with their status, counts and every error; POST a file to
    import it (region and municipality administrators and methodologists, school administrators)."""

    queryset = Upload.objects.select_related("assessment", "organisation", "uploaded_by")
    serializer_class = UploadSerializer
    parser_classes = [MultiPartParser, FormParser]
    filters = [
        QueryFilter("status", "status", gettext_lazy("Состояние загрузки."), enum=tuple(UploadStatus.values)),
        QueryFilter("assessment", "assessment__code", gettext_lazy("Код работы.")),
        QueryFilter("format", "format", gettext_lazy("Формат файла.")),
        QueryFilter("org", description=gettext_lazy("Код организации: её загрузки и загрузки подчинённых."),
                    method=subtree_of("organisation__path")),
    ]

    def get_permissions(self):
        if self.action == "create":
            return [HasAnyRoleOf(UPLOAD_ROLES)]
        return super().get_permissions()

    @extend_schema(
        request={"multipart/form-data": UploadRequestSerializer},
        responses={
            201: OpenApiResponse(UploadOutcomeSerializer, description=gettext_lazy("Файл загружен.")),
            200: OpenApiResponse(UploadOutcomeSerializer, description=gettext_lazy(
                "Пробный запуск пройден или этот файл уже был загружен.")),
            400: OpenApiResponse(UploadOutcomeSerializer, description=gettext_lazy(
                "Файл отклонён: список ошибок с листом, строкой и столбцом; ничего не загружено.")),
        },
    )
    def create(self, request, *args, **kwargs):
        form = UploadRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = request.user
        school = data.get("school") or _own_school(user)
        if school and not Organisation.objects.visible_to(user).filter(
                code=school, kind=OrganisationKind.SCHOOL).exists():
            raise serializers.ValidationError({"school": _("Школа с кодом {code} вам недоступна или не найдена.").format(
                code=school)})
        if data["create_organisations"] and not (user.is_superuser or role_names(user) & CREATE_ORGANISATION_ROLES):
            raise serializers.ValidationError({"create_organisations": _(
                "Добавлять школы в реестр может администратор региона или методист.")})
        options = ImportOptions(format=data.get("format"), assessment=data.get("assessment"), school=school,
                                dry_run=data["dry_run"], valid_rows_only=data["valid_rows_only"],
                                create_organisations=data["create_organisations"], acting_user=user)
        upload = data["file"]
        with tempfile.TemporaryDirectory(prefix="metodist-api-") as folder:
            path = Path(folder) / _safe_name(upload.name)
            with open(path, "wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            outcome = import_file(path, options)
        body = outcome.as_dict()
        body["upload"] = UploadSerializer(outcome.upload).data if outcome.upload is not None else None
        if outcome.status in (UploadStatus.IMPORTED, UploadStatus.IMPORTED_PARTLY):
            code = status.HTTP_201_CREATED
        elif outcome.ok:
            code = status.HTTP_200_OK
        elif outcome.status == UploadStatus.FAILED:
            code = status.HTTP_500_INTERNAL_SERVER_ERROR
        else:
            code = status.HTTP_400_BAD_REQUEST
        return Response(body, status=code)


def _own_school(user) -> str | None:
    """A school's user sends his school's files, as on the pages: the school, when every role he may upload
    in is at one school."""
    organisations = {role.organisation for role in _roles_of(user) if role.role in UPLOAD_ROLES}
    if len(organisations) == 1:
        only = next(iter(organisations))
        if only.kind == OrganisationKind.SCHOOL:
            return only.code
    return None


def _safe_name(name: str) -> str:
    """The file's own name (it is shown in every error), without any folder and unsafe characters."""
    base = Path(str(name).replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f/]", "_", base).strip(". ") or "file"
    return base[:200]
