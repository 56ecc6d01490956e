from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

import studies.api
from edc.accounts.api import TokenObtainView
from edc.api.docs import RedocView, SwaggerView
from edc.consent import api as consent_api
from edc.datamanagement import api as datamanagement_api
from edc.forms import api as forms_api
from edc.forms import status_api as forms_status_api
from edc.outcomes import api as outcomes_api
from edc.safety import api as safety_api
from edc.subjects import api as subjects_api
from edc.tumors import api as tumors_api
from edc.visits import api as visits_api
from edc.visits import api_treatment as treatment_api

router = DefaultRouter()
studies.api.register(router)
subjects_api.register(router)
safety_api.register(router)
consent_api.register(router)
forms_api.register(router)
visits_api.register(router)
datamanagement_api.register(router)
tumors_api.register(router)
treatment_api.register(router)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    *tumors_api.urlpatterns,
    *outcomes_api.urlpatterns,
    *safety_api.urlpatterns,
    *datamanagement_api.urlpatterns_(),
    *treatment_api.urlpatterns,
    *forms_status_api.urlpatterns,
    *router.urls,
]
