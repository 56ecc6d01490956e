from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

import studies.api
from edc.accounts.api import TokenObtainView
from edc.consent import api as consent_api
from edc.forms import api as forms_api
from edc.subjects import api as subjects_api
from edc.visits import api as visits_api

router = DefaultRouter()
studies.api.register(router)
subjects_api.register(router)
consent_api.register(router)
forms_api.register(router)
visits_api.register(router)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    *router.urls,
]
