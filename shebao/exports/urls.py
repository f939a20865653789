from django.urls import path

from shebao.exports import views

app_name = "exports"
urlpatterns = [
    path("tx/<int:pk>/form.<str:fmt>", views.form_download, name="form"),
    path("tx/<int:pk>/parts/", views.parts, name="parts"),
    path("tx/<int:pk>/parts/status.json", views.parts_status, name="parts_status"),
    path("tx/<int:pk>/parts/<int:job>/<int:number>.pdf", views.part_download, name="part"),
]
