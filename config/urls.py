from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from shebao.core.adminlists import harden

admin.site.site_header = _("社保网上办事大厅 · 系统管理")
admin.site.site_title = _("社保网上办事大厅")
harden(admin.site)  # hostile list parameters and ticked ids: the list's own refusal, never a 500

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("shebao.accounts.urls")),
    path("backoffice/", include("shebao.backoffice.urls")),
    path("batch/", include("shebao.batch.urls")),
    path("exports/", include("shebao.exports.urls")),
    path("", include("shebao.web.urls")),
]
