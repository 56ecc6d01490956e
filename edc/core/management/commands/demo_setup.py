"""Create (or refresh) the demo login for a local run and print it. Refuses to run in production."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Create the demo superuser with a fresh random password and print the login (debug only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_setup runs only with DJANGO_DEBUG=1: never a known login in production.")
        username = options["username"]
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                "\n"
                "  Oncology EDC is ready: http://127.0.0.1:8000/admin/   API docs: http://127.0.0.1:8000/api/docs/\n"
                f"  Demo login ({'created' if created else 'password renewed'}):  username: {username}"
                f"   password: {password}\n"
            )
        )
