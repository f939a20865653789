from django.urls import path

from shebao.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.message_list, name="list"),
    path("<id:pk>/", views.message_open, name="open"),
    path("read-all/", views.read_all, name="read_all"),
    path("settings/", views.preferences, name="preferences"),
]
