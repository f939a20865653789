from django.urls import path

from shebao.web import employer_details, reader, views

app_name = "web"
urlpatterns = [
    path("", views.root, name="root"),
    path("home/", views.home, name="home"),
    path("persons/", views.persons, name="persons"),
    path("persons/export.xlsx", views.persons_export, name="persons_export"),
    path("persons/<id:pk>/", views.person_detail, name="person_detail"),
    path("retirees/", views.retirees, name="retirees"),
    path("employer/", employer_details.details, name="employer_details"),
    path("business/<str:code>/", views.business, name="business"),
    path("business/<str:code>/single/", views.single_new, name="single_new"),
    path("business/<str:code>/check/", views.check_fields, name="check_fields"),
    path("tx/<id:pk>/", views.tx_detail, name="tx_detail"),
    path("tx/<id:pk>/action/", views.tx_action, name="tx_action"),
    path("tx/<id:pk>/status/", views.tx_status, name="tx_status"),
    path("tx/<id:pk>/photo/", views.tx_photo, name="tx_photo"),
    path("tx/<id:pk>/reader-photo/", reader.tx_reader_photo, name="tx_reader_photo"),
    path("business/<str:code>/reader-photo/", reader.reader_photo_check, name="reader_photo_check"),
    path("tx/<id:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("tx/<id:pk>/attachments/<id:att>/", views.attachment_file, name="attachment_file"),
    path("tx/<id:pk>/attachments/<id:att>/remove/", views.attachment_remove, name="attachment_remove"),
]
