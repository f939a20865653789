from django.urls import path

from shebao.backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("tx/<id:pk>/", views.detail, name="detail"),
    path("tx/<id:pk>/photo/", views.photo, name="photo"),
    path("tx/<id:pk>/attachments/<id:att>/", views.attachment, name="attachment"),
    path("tx/<id:pk>/approve/", views.approve, name="approve"),
    path("tx/<id:pk>/return/", views.return_, name="return"),
    path("tx/<id:pk>/cancel/", views.cancel, name="cancel"),
    path("tx/<id:pk>/mark-failed/", views.mark_failed, name="mark_failed"),
]
