"""The employer's pages of the API, under /integration/: 接口令牌, 免费预检 and each token's
webhook pages (shebao.api.webhook_views)."""

from django.urls import path

from shebao.api import views, webhook_views

app_name = "api"
urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<id:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("precheck/", views.precheck, name="precheck"),
    *webhook_views.urlpatterns,
]
