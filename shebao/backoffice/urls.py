from django.urls import path

from shebao.backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("tx/<int:pk>/", views.detail, name="detail"),
    path("tx/<int:pk>/photo/", views.photo, name="photo"),
    path("tx/<int:pk>/approve/", views.approve, name="approve"),
    path("tx/<int:pk>/return/", views.return_, name="return"),
    path("tx/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("tx/<int:pk>/mark-failed/", views.mark_failed, name="mark_failed"),
]
