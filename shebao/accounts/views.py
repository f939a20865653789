from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shebao.accounts.forms import LoginForm, PasswordChangeForm
from shebao.accounts.landing import home_for
from shebao.accounts.passwords import HistoryValidator
from shebao.accounts.scoping import SESSION_KEY


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = LoginForm(request.POST or None)
    error = ""
    if request.GET.get("expired"):
        error = _("您已超过 30 分钟未操作，请重新登录。")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = authenticate(
            request, username=data["username"], password=data["password"], employer_number=data["employer_number"]
        )
        lock = getattr(request, "shebao_lock", None)
        if lock is not None and lock.by_address:
            error = _("此网络地址登录失败次数过多，暂停登录至 %(until)s。") % {
                "until": timezone.localtime(lock.until).strftime("%Y-%m-%d %H:%M")
            }
        elif lock is not None:
            error = _("连续登录失败次数过多，账号已锁定至 %(until)s。") % {
                "until": timezone.localtime(lock.until).strftime("%H:%M")
            }
        elif user is None:
            error = _("单位编号、用户名或密码不正确。")
        if user is not None:
            login(request, user)
            if user.membership is not None:
                request.session[SESSION_KEY] = user.membership.employer_id
            return redirect(home_for(user))
    status = 401 if error and request.method == "POST" else 200
    return render(request, "accounts/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("accounts:login")


@require_http_methods(["GET", "POST"])
def password_change_view(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        HistoryValidator.remember_current(user)
        user.set_password(form.cleaned_data["new_password1"])
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        # User.save() records the new password in the history (password_changed).
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改，下次登录请使用新密码。"))
        return redirect(home_for(user))
    return render(request, "accounts/password_change.html", {"form": form, "forced": request.user.must_change_password})
