import datetime as dt, json
import pytest
from rest_framework.test import APIClient
from tests.factories import UserFactory, MembershipFactory
from edc.core.models import Role
from tests.tumors.conftest import enrolled, imaging_visits

@pytest.mark.django_db
def test_api(studies):
    subj = enrolled()
    user = UserFactory(username="c1")
    MembershipFactory(user=user, study=subj.study, site=subj.site, role=Role.SITE_COORDINATOR)
    c = APIClient(); c.force_authenticate(user)
    r = c.post("/api/tumor-lesions/", {"subject": str(subj.pk), "code": "T1", "category": "TARGET", "location": "liver", "organ": "liver", "nodal": "N", "method": "CT", "slice_thickness_mm": "5", "diameter_mm": "40", "date": "2025-03-01"}, format="json")
    print(r.status_code, r.json())
    r = c.post("/api/tumor-lesions/", {"subject": str(subj.pk), "code": "T2", "category": "TARGET", "location": "liver", "organ": "liver", "nodal": "N", "method": "CT", "slice_thickness_mm": "5", "diameter_mm": "8", "date": "2025-03-01"}, format="json")
    print(r.status_code, r.json())
    v = imaging_visits(subj)
    r = c.post("/api/tumor-assessments/", {"subject": str(subj.pk), "visit": str(v[0].pk), "date": str(v[0].target_date), "investigator_overall": "SD", "investigator_new_lesions": "N", "measurements": [{"lesion": "T1", "target_state": "MEASURED", "diameter_mm": "20", "method": "CT"}]}, format="json")
    print(r.status_code, json.dumps(r.json(), indent=1)[:3000])
    r = c.get("/api/tumor-assessments/?subject=%s" % subj.pk)
    print(r.status_code, str(r.json())[:300])
