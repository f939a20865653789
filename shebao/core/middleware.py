from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    """Chinese by default, English when the user chose it with the language switch.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: the service
    hall speaks Chinese unless the user asks otherwise (the choice is kept in a cookie).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = (
            chosen
            if translation.check_for_language(chosen) and chosen in dict(settings.LANGUAGES)
            else (settings.LANGUAGE_CODE)
        )
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
