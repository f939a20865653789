from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "社保网上办事大厅 · 系统管理"
admin.site.site_title = "社保网上办事大厅"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("shebao.accounts.urls")),
    path("backoffice/", include("shebao.backoffice.urls")),
    path("batch/", include("shebao.batch.urls")),
    path("exports/", include("shebao.exports.urls")),
    path("", include("shebao.web.urls")),
]
