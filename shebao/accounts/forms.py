from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    employer_number = forms.CharField(
        label=_("单位编号"), max_length=20, required=False, help_text=_("经办机构人员及系统管理员不填")
    )
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, max_length=200)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("原密码"), widget=forms.PasswordInput, max_length=200)
    new_password1 = forms.CharField(
        label=_("新密码"),
        widget=forms.PasswordInput,
        max_length=200,
        help_text=_(
            "至少 10 位，含大写字母、小写字母、数字、符号中的至少三类；不含用户名或单位编号；不能与最近 5 次相同。"
        ),
    )
    new_password2 = forms.CharField(label=_("确认新密码"), widget=forms.PasswordInput, max_length=200)

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("原密码不正确。"))
        return value

    def clean(self):
        super().clean()
        data = self.cleaned_data
        p1, p2 = data.get("new_password1"), data.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as error:
                self.add_error("new_password1", error)
        return data
