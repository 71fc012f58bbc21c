from django.urls import path

from patients.views import staff as views

urlpatterns = [
    path("staff/patients/", views.patient_list, name="patients-list"),
    path("staff/patients/search/", views.patient_search, name="patients-search"),
    path("staff/patients/new/", views.patient_create, name="patients-create"),
    path("staff/patients/<int:pk>/", views.patient_detail, name="patients-detail"),
    path("staff/patients/<int:pk>/edit/", views.patient_edit, name="patients-edit"),
    path("staff/patients/<int:pk>/intake/", views.intake, name="patients-intake"),
    path("staff/patients/<int:pk>/intake/new/", views.intake_new, name="patients-intake-new"),
    path("staff/patients/<int:pk>/intake/v<int:version>/", views.intake_version, name="patients-intake-version"),
    path("staff/patients/<int:pk>/preferences/", views.preferences_edit, name="patients-preferences"),
    path("staff/patients/<int:pk>/notes/", views.chart_notes, name="patients-notes"),
    path("staff/patients/<int:pk>/photos/", views.photos, name="patients-photos"),
    path("staff/patients/<int:pk>/photos/<int:photo_pk>/image/", views.photo_image, name="patients-photo-image"),
    path("staff/patients/<int:pk>/access/", views.access_history, name="patients-access"),
    path("staff/access-log/", views.access_log, name="patients-access-log"),
]
