"""factory_boy factories shared by the test suite."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from edc.core.models import Membership, Role
from edc.core.services import record_save
from edc.subjects.models import Subject
from studies.models import Site, Study


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.django.Password("pw-for-tests")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study
        django_get_or_create = ("protocol_id",)

    protocol_id = factory.Sequence(lambda n: f"TEST-{n:03d}")
    title = factory.LazyAttribute(lambda s: f"Test study {s.protocol_id}")
    short_title = factory.LazyAttribute(lambda s: s.protocol_id)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    study = factory.SubFactory(StudyFactory)
    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.LazyAttribute(lambda s: f"Hospital {s.code}")
    time_zone = "Asia/Shanghai"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    study = factory.LazyAttribute(lambda m: m.site.study if m.site else StudyFactory())
    site = None
    role = Role.SITE_COORDINATOR


class SubjectFactory(factory.django.DjangoModelFactory):
    """Created through the core write path (no site check): a first history row like any record's.

    Tests of the doors and of the subject services call those themselves. `created_by`: the user
    named on the first history row (default none).
    """

    class Meta:
        model = Subject

    @classmethod
    def _create(cls, model_class: type[Subject], *args: object, **kwargs: object) -> Subject:
        created_by = kwargs.pop("created_by", None)
        return record_save(model_class(*args, **kwargs), user=created_by)

    site = factory.SubFactory(SiteFactory)
    study = factory.LazyAttribute(lambda s: s.site.study)
    screening_number = factory.Sequence(lambda n: f"SCR-{n:04d}")
    sex = "F"
    birth_date = "1961-05"


# --- the subject journey (issue 17) ---------------------------------------------------------------
# Built through the services with the console operator (user=None): tests of the doors call the
# services as their users themselves.

import datetime as _dt  # noqa: E402

from edc.consent.models import ConsentVersion  # noqa: E402

CONSENTED_AT = _dt.datetime(2025, 3, 1, 9, 0, tzinfo=_dt.UTC)


class ConsentVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentVersion
        django_get_or_create = ("study", "version", "language")

    study = factory.SubFactory(StudyFactory)
    version = "1.0"
    language = "zh"
    effective_from = _dt.date(2023, 1, 1)


def screen_subject(
    site: Site, *, user: object = None, consented_at: _dt.datetime | None = CONSENTED_AT, **values: object
):
    """A subject screened at `site` (and consented, unless `consented_at` is None)."""
    from edc.consent import services as consent_services
    from edc.subjects import services as subject_services

    values.setdefault("sex", "F")
    values.setdefault("birth_date", "1970")
    if consented_at is not None:
        values.setdefault("screening_date", consented_at.date())
    subject = subject_services.subject_screen(user=user, study=site.study, site=site, **values)
    if consented_at is not None:
        version = ConsentVersionFactory(study=site.study)
        consent_services.consent_sign(
            user=user, subject=subject, version=version, signed_at=consented_at, obtained_by="Dr Wang"
        )
    return subject
