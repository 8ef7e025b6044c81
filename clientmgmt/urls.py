# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "clientmgmt:<name>".
from django.urls import include, path

from . import archive_views, views

app_name = "clientmgmt"
# Mounted at the site's root (config/urls.py): the client record lives under /clients/, the
# client-management department's own pages under /clientmgmt/ (the addresses its issue names).
client_patterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_create, name="client_create"),
    path("export/", views.client_export, name="client_export"),
    path("<id:pk>/", views.client_detail, name="client_detail"),
    path("<id:pk>/edit/", views.client_edit, name="client_edit"),
    path("<id:pk>/reveal/", views.client_reveal, name="client_reveal"),
    path("<id:pk>/consent/", views.client_consent, name="client_consent"),
    path("<id:pk>/archive/", views.client_archive, name="client_archive"),
    path("<id:pk>/restore/", views.client_restore, name="client_restore"),
    path("<id:pk>/health/", archive_views.health_archive, name="health_archive"),
    path("import/", views.import_upload, name="import_upload"),
    path("import/<uuid:token>/", views.import_detail, name="import_detail"),
    path("import/<uuid:token>/start/", views.import_start, name="import_start"),
    path("import/<uuid:token>/progress/", views.import_progress, name="import_progress"),
    path("merge/", views.merge_select, name="merge_select"),
    path("merges/<id:pk>/", views.merge_detail, name="merge_detail"),
    path("merges/<id:pk>/undo/", views.merge_undo, name="merge_undo"),
]
department_patterns = [
    # The archives: the department's front door.
    path("", archive_views.archive_list, name="archive_list"),
    path("archives/review/", archive_views.archive_review, name="archive_review"),
    path("archives/export/", archive_views.archive_export, name="archive_export"),
]
urlpatterns = [
    path("clients/", include(client_patterns)),
    path("clientmgmt/", include(department_patterns)),
]
