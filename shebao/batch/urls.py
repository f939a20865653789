from django.urls import path

from shebao.batch import views

app_name = "batch"
urlpatterns = [
    path("template/<str:code>/", views.template, name="template"),
    path("upload/<str:code>/", views.upload, name="upload"),
    path("results/<str:code>/", views.results, name="results"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/status/", views.status, name="status"),
    path("<id:pk>/action/", views.action, name="action"),
    path("<id:pk>/rows/<id:item>/photo/", views.row_photo, name="row_photo"),
    path("<id:pk>/failures/<str:kind>.xlsx", views.failures, name="failures"),
]
