"""The start page tells what the installation holds and which stages of the cycle are available."""

import pytest

from metodist.core.models import Organisation, OrganisationKind


@pytest.mark.django_db
def test_start_page_shows_what_is_loaded(client):
    region = Organisation.objects.create(kind=OrganisationKind.REGION, code="r1", short_name="Регион")
    Organisation.objects.create(kind=OrganisationKind.SCHOOL, code="edu1", short_name="Школа", parent=region)
    response = client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Что загружено" in text
    assert "Образовательная организация" in text  # a kind with schools is listed
    assert "Институт развития образования" not in text  # kinds with none are not
    # the stages not built yet are said to be unavailable, not shown as pages
    assert text.count("ещё не доступен") == 5
