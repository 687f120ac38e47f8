"""The frame of every page: sign-in with throttling, sign-out, password change, the acting role, the cycle
in the navigation, the language switch."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from metodist.collection.models import Upload, UploadStatus
from metodist.core.models import Organisation, OrganisationKind, RoleAssignment

PASSWORD = "Сложный-пароль-2026"


@pytest.fixture
def tree(db):
    region = Organisation.objects.create(kind=OrganisationKind.REGION, code="r1", short_name="Область")
    north = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="m1", short_name="Северный район",
                                        parent=region)
    south = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="m2", short_name="Южный район",
                                        parent=region)
    school_n = Organisation.objects.create(kind=OrganisationKind.SCHOOL, code="edu1", short_name="Школа № 1",
                                           parent=north)
    school_s = Organisation.objects.create(kind=OrganisationKind.SCHOOL, code="edu2", short_name="Школа № 2",
                                           parent=south)
    return {"region": region, "north": north, "south": south, "school_n": school_n, "school_s": school_s}


def make_user(username, *roles):
    user = get_user_model().objects.create_user(username, password=PASSWORD, first_name="Анна", last_name="Петрова")
    for role, organisation in roles:
        RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
    return user


def sign_in(client, username, password=PASSWORD):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7")


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    page = client.get("/login/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Вход в Методист" in text and 'lang="ru"' in text
    assert 'for="id_username"' in text and 'for="id_password"' in text  # labelled fields


def test_sign_in_and_out(tree):
    make_user("metod", ("methodologist", tree["north"]))
    client = Client()
    response = sign_in(client, "metod")
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    text = home.content.decode()
    assert "Северный район" in text and "Анна Петрова" in text
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_says_so_in_russian(tree):
    make_user("metod", ("methodologist", tree["north"]))
    response = sign_in(Client(), "metod", "неверный")
    assert response.status_code == 200
    assert "Пожалуйста, введите правильные имя пользователя и пароль" in response.content.decode()


def test_sign_in_is_throttled_after_repeated_failures(tree, settings):
    make_user("metod", ("methodologist", tree["north"]))
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "metod", "неверный").status_code == 200
    locked = sign_in(client, "metod", "неверный")
    assert locked.status_code == 429
    assert "Вход временно заблокирован" in locked.content.decode()
    # even the right password is refused while the lock lasts
    assert sign_in(client, "metod").status_code == 429
    # another user from the same address is not locked out
    make_user("other", ("methodologist", tree["south"]))
    assert sign_in(Client(), "other").status_code == 302


def test_password_change(tree):
    make_user("metod", ("methodologist", tree["north"]))
    client = Client()
    sign_in(client, "metod")
    page = client.get("/password/")
    assert page.status_code == 200 and "Смена пароля" in page.content.decode()
    response = client.post("/password/", {"old_password": PASSWORD, "new_password1": "Другой-пароль-2027",
                                          "new_password2": "Другой-пароль-2027"})
    assert response.status_code == 302 and response["Location"] == "/password/done/"
    client.post("/logout/")
    assert sign_in(Client(), "metod", "Другой-пароль-2027").status_code == 302


def test_user_with_several_roles_picks_the_one_he_acts_in(tree):
    user = make_user("two", ("methodologist", tree["north"]), ("school_admin", tree["school_s"]))
    Upload.objects.create(file_name="north.xlsx", checksum="a", format="vpr-form", organisation=tree["school_n"],
                          status=UploadStatus.IMPORTED)
    Upload.objects.create(file_name="south.xlsx", checksum="b", format="vpr-form", organisation=tree["school_s"],
                          status=UploadStatus.IMPORTED)
    client = Client()
    sign_in(client, "two")
    text = client.get("/").content.decode()
    # the widest role is the default, and only its subtree is visible
    assert "Действую как" in text
    assert "north.xlsx" in text and "south.xlsx" not in text
    school_role = RoleAssignment.objects.get(user=user, role="school_admin")
    response = client.post("/role/", {"role": school_role.pk, "next": "/"})
    assert response.status_code == 302
    text = client.get("/").content.decode()
    assert "south.xlsx" in text and "north.xlsx" not in text
    # somebody else's role cannot be chosen
    stranger = make_user("stranger", ("region_admin", tree["region"]))
    foreign = RoleAssignment.objects.get(user=stranger)
    client.post("/role/", {"role": foreign.pk, "next": "/"})
    text = client.get("/").content.decode()
    assert "Такой роли у вас нет." in text and "south.xlsx" in text and "north.xlsx" not in text
    # an outside address in `next` is not followed
    assert client.post("/role/", {"role": school_role.pk, "next": "https://example.com/"})["Location"] == "/"


def test_navigation_shows_the_six_stages_as_links(tree):
    make_user("metod", ("methodologist", tree["north"]))
    client = Client()
    sign_in(client, "metod")
    text = client.get("/").content.decode()
    for title in ("Сбор данных", "Анализ, выявление проблем", "Изучение передового опыта",
                  "Дорожные карты и рекомендации", "Методическая помощь", "Мониторинг"):
        assert title in text
    # every stage is built: each is a link, none is shown as unavailable
    assert 'aria-disabled="true"' not in text
    for url in ("/collection/uploads/", "/analysis/", "/practices/", "/planning/", "/assistance/", "/monitoring/"):
        assert f'href="{url}"' in text


def test_language_switch(tree):
    make_user("metod", ("methodologist", tree["north"]))
    client = Client()
    sign_in(client, "metod")
    response = client.post("/language/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/")
    assert page["Content-Language"] == "en" and 'lang="en"' in page.content.decode()
    client.post("/language/", {"language": "ru", "next": "/"})
    assert client.get("/")["Content-Language"] == "ru"
