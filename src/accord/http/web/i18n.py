"""Languages and page rendering.

One Jinja2 environment per language, each with that language's gettext installed: environments are built once
and shared by every request, so a request never changes shared state to switch language (thread-safe under the
threadpool). Python code marks its strings with ``tr(request, "...")`` (pybabel keyword ``tr:2``).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jinja2
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from fastapi import Request
from starlette.responses import HTMLResponse

from accord import clock
from accord.sharing.handling import Principal

__all__ = ["LANGUAGES", "RTL", "language_of", "render", "tr", "translations"]

HERE = Path(__file__).resolve().parent
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "ar": "العربية", "ru": "Русский", "fa": "فارسی"}
RTL = frozenset({"ar", "fa"})
LANG_COOKIE = "accord_lang"


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(HERE / "translations"), [lang], domain="messages")


def tr(request: Request, message: str, **values: Any) -> str:
    text = translations(language_of(request)).gettext(message)
    return text % values if values else text


def _date(value: str | None, lang: str, with_time: bool = True) -> str:
    if not value:
        return ""
    try:
        dt = clock.parse_ts(value)
    except (ValueError, TypeError):
        return str(value)
    # ISO-like digits read the same in every script and sort visually; month names would need CLDR per locale.
    return dt.strftime("%Y-%m-%d %H:%M") if with_time else dt.strftime("%Y-%m-%d")


def _mgrs(lat: float, lon: float) -> str:
    from accord.http.web.coords import CoordinateError, latlon_to_mgrs

    try:
        return latlon_to_mgrs(lat, lon)
    except CoordinateError:
        return "–"


@lru_cache(maxsize=8)
def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=jinja2.select_autoescape(default=True),
                             extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["num"] = lambda n: format_decimal(n or 0, locale=lang)
    env.filters["dt"] = lambda v: _date(v, lang)
    env.filters["day"] = lambda v: _date(v, lang, with_time=False)
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["mgrs"] = _mgrs
    return env


def language_of(request: Request) -> str:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None and principal.language in LANGUAGES:
        return principal.language
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return "en"


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    lang = language_of(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    ctx = {"request": request, "lang": lang, "dir": "rtl" if lang in RTL else "ltr", "user": principal,
           "csrf": getattr(request.state, "csrf", ""), "path": request.url.path, "now": datetime.now()}
    flash = request.cookies.get("accord_flash")
    if flash:
        ctx["flash"] = unquote(flash)
    ctx.update(context or {})
    html = environment(lang).get_template(template).render(ctx)
    resp = HTMLResponse(html, status, headers=headers)
    if flash:
        resp.delete_cookie("accord_flash")
    return resp
