from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _

from shebao.api.v1 import api as api_v1
from shebao.core.adminlists import harden
from shebao.params.admin import in_effect_view, link_in_effect

admin.site.site_header = _("社保网上办事大厅 · 系统管理")
admin.site.site_title = _("社保网上办事大厅")
admin.site.index_title = _("系统管理")
# The administrator's top-bar link (Django's "view site") opens what an administrator checks
# most: the parameters in effect (the service hall itself is for operators and clerks).
admin.site.site_url = reverse_lazy("params_in_effect")  # type: ignore[assignment]  # a lazy str
harden(admin.site)  # hostile list parameters and ticked ids: the list's own refusal, never a 500
link_in_effect(admin.site)

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/params/in-effect/", admin.site.admin_view(in_effect_view), name="params_in_effect"),
    path("admin/", admin.site.urls),
    path("accounts/", include("shebao.accounts.urls")),
    path("backoffice/", include("shebao.backoffice.urls")),
    path("batch/", include("shebao.batch.urls")),
    path("exports/", include("shebao.exports.urls")),
    path("inbox/", include("shebao.inbox.urls")),
    path("api/v1/", api_v1.urls),
    path("integration/", include("shebao.api.urls")),
    path("", include("shebao.web.urls")),
]
