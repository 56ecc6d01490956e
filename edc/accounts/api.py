"""POST /api/auth/token/: a username and password in, an expiring API token out.

Failed attempts count towards the django-axes lockout exactly like failed admin logins (the
request goes through django.contrib.auth.authenticate); a locked account is answered 429 by
axes' middleware with edc.accounts.lockout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edc.accounts import services


class TokenRequestSerializer(serializers.Serializer):
    refuses_unknown_fields = True  # the schema says so (additionalProperties: false)

    username = serializers.CharField(label=_("Username"), max_length=150)
    password = serializers.CharField(
        label=_("Password"), max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: [gettext("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Send as `Authorization: Token <token>`."))
    expires = serializers.DateTimeField(help_text=_("After this time the token is refused."))


class TokenObtainView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: django-axes flags a lockout on it for its middleware.
        http_request = request._request
        user = authenticate(
            http_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [gettext("Unable to log in with provided credentials.")]},
                code="authorization",
            )
        user_logged_in.send(sender=type(user), request=http_request, user=user)
        issued = services.api_token_issue(user=user, now=timezone.now())
        return Response(
            TokenResponseSerializer({"token": issued.key, "expires": issued.token.expires_at}).data
        )
