from django.urls import include, path
from django.views.generic import RedirectView

from edc.core.admin_site import site as admin_site

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin_site.urls),
    path("api/", include("edc.api.urls")),
    # POST /i18n/setlang/ (Django's set_language): the admin's language selector.
    path("i18n/", include("django.conf.urls.i18n")),
]
