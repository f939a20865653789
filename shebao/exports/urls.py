from django.urls import path

from shebao.exports import views

app_name = "exports"
urlpatterns = [
    path("tx/<id:pk>/form.<str:fmt>", views.form_download, name="form"),
    path("tx/<id:pk>/parts/", views.parts, name="parts"),
    path("tx/<id:pk>/parts/status.json", views.parts_status, name="parts_status"),
    path("tx/<id:pk>/parts/<id:job>/<id:number>.pdf", views.part_download, name="part"),
]
