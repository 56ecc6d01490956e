"""English and Simplified Chinese: a complete catalogue; the admin and the API speak the user's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from edc.core import catalogue
from studies.models import Study, VisitKind

ZH = "zh_Hans"


@pytest.fixture(scope="module")
def marked() -> list[catalogue.Marked]:
    return catalogue.marked_strings()


# --- the catalogue -------------------------------------------------------------------------------


def test_every_marked_string_of_the_project_has_a_simplified_chinese_translation(marked):
    missing = catalogue.untranslated(ZH, marked)
    assert not missing, (
        f"{len(missing)} marked string(s) have no {ZH} translation:\n"
        + "\n".join(f"  {item}" for item in missing)
        + "\n"
        + catalogue.HOW_TO_FIX.format(locale=ZH)
    )


def test_the_committed_mo_file_says_what_the_po_file_says():
    assert catalogue.compiled(ZH) == catalogue.translations(catalogue.read_catalogue(ZH)), (
        f"{catalogue.mo_path(ZH).relative_to(catalogue.ROOT)} is out of step with its .po: "
        "run `make compilemessages` and commit the .mo."
    )


def test_the_catalogue_holds_no_string_that_the_code_no_longer_marks(marked):
    stale = catalogue.stale(ZH, marked)
    assert not stale, (
        "The catalogue has entries no code marks any more: " + ", ".join(stale) + ". Run `make messages`."
    )


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{[A-Za-z_]\w*(?:![rs])?\}")


def test_every_translation_keeps_the_placeholders_of_its_english_text():
    wrong = {
        msgid: text
        for (_context, msgid), text in catalogue.translations(catalogue.read_catalogue(ZH)).items()
        if isinstance(text, str) and sorted(_PLACEHOLDER.findall(msgid)) != sorted(_PLACEHOLDER.findall(text))
    }
    assert not wrong


def test_the_checker_finds_strings_marked_in_code_and_templates_and_reports_them_untranslated(tmp_path):
    package = tmp_path / "newapp"
    (package / "templates").mkdir(parents=True)
    (package / "models.py").write_text(
        "from django.utils.translation import gettext_lazy as _, pgettext\n"
        'LABEL = _("A label no catalogue has yet")\n'
        'TITLE = pgettext("visit", "Cycle {n}")\n'
        'NOT_MARKED = "plain text"\n'
    )
    (package / "templates" / "page.html").write_text(
        '{% load i18n %}<p>{% translate "A template line no catalogue has" %}</p>'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text('_("ignored like makemessages ignores tests/")\n')

    found = catalogue.marked_strings(tmp_path)

    assert [(m.context, m.msgid, m.where) for m in found] == [
        (None, "A label no catalogue has yet", "newapp/models.py:2"),
        ("visit", "Cycle {n}", "newapp/models.py:3"),
        (None, "A template line no catalogue has", "newapp/templates/page.html:1"),
    ]
    assert [m.msgid for m in catalogue.untranslated(ZH, found)] == [
        "A label no catalogue has yet",
        "Cycle {n}",
        "A template line no catalogue has",
    ]


def test_the_catalogue_and_its_compiled_file_are_in_the_repository():
    root = Path(catalogue.ROOT)
    assert (root / "locale" / ZH / "LC_MESSAGES" / "django.po").is_file()
    assert (root / "locale" / ZH / "LC_MESSAGES" / "django.mo").is_file()


def test_clinical_labels_read_in_simplified_chinese_and_codes_stay_as_they_are():
    with translation.override("zh-hans"):
        assert str(Study._meta.verbose_name_plural) == "研究"
        assert str(VisitKind.SCREENING.label) == "筛选"
        assert str(VisitKind.SCREENING.value) == "screening"
    with translation.override("en"):
        assert str(VisitKind.SCREENING.label) == "Screening"


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client_for(client, db):
    from tests.factories import UserFactory

    user = UserFactory(username="chinese_reader", is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def _pick(client, language):
    return client.post("/i18n/setlang/", {"language": language, "next": "/admin/"})


def test_the_admin_speaks_english_until_a_user_picks_another_language(admin_client_for):
    page = admin_client_for.get("/admin/").content.decode()
    assert 'lang="en"' in page
    assert "Trials, subjects and data management" in page
    assert "Trial definitions" in page


def test_the_admin_renders_in_simplified_chinese_for_a_user_who_picks_it(admin_client_for):
    response = _pick(admin_client_for, "zh-hans")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"

    page = admin_client_for.get("/admin/").content.decode()
    assert 'lang="zh-hans"' in page
    # This project's strings: the index title, an app and a model.
    assert "研究、受试者与数据管理" in page
    assert "研究定义" in page
    assert ">研究<" in page
    assert "研究中心" in page
    # Django's own admin strings, from its zh-Hans catalogue.
    assert "修改密码" in page
    assert "最近动作" in page
    assert "Trial definitions" not in page


def test_the_language_choice_sticks_after_logging_out_and_in_again(admin_client_for):
    _pick(admin_client_for, "zh-hans")
    cookie = admin_client_for.cookies["django_language"]
    assert cookie.value == "zh-hans"
    assert int(cookie["max-age"]) >= 30 * 24 * 60 * 60  # outlives the session

    admin_client_for.post("/admin/logout/")
    admin_client_for.force_login(admin_client_for.user)
    assert "研究、受试者与数据管理" in admin_client_for.get("/admin/").content.decode()

    _pick(admin_client_for, "en")
    assert "Trials, subjects and data management" in admin_client_for.get("/admin/").content.decode()


def test_every_admin_page_offers_the_language_selector(admin_client_for):
    page = admin_client_for.get("/admin/studies/study/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert '<option value="zh-hans"' in page
    assert "简体中文" in page


def test_the_login_page_follows_the_browsers_language_and_offers_the_selector(client, db):
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "肿瘤临床试验 EDC" in page
    assert "用户名" in page
    assert 'action="/i18n/setlang/"' in page


# --- the API ---------------------------------------------------------------------------------------


def test_api_error_messages_follow_the_requests_accept_language(client_for, two_sites):
    api = client_for(two_sites.user_a)
    body = {"study": two_sites.study.pk, "site": two_sites.site_a.pk, "colour": "blue"}

    chinese = api.post("/api/subjects/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    english = api.post("/api/subjects/", body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()

    assert chinese["errors"]["sex"] == ["该字段是必填项。"]  # DRF's own catalogue
    assert chinese["errors"]["colour"] == ["未知字段。"]  # this project's catalogue
    assert english["errors"]["sex"] == ["This field is required."]
    assert english["errors"]["colour"] == ["Unknown field."]
    assert chinese["code"] == english["code"]  # codes are never translated
