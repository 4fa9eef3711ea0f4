"""Every string of the pages is translated in the four catalogs, with the same placeholders, and the committed
.mo files say what the .po files say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

WEB = Path(__file__).resolve().parents[2] / "src" / "accord" / "http" / "web"
LANGS = ("fr", "ar", "ru", "fa")
_PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def source_messages() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "tr": (2,)}
    found = extract_from_dir(str(WEB), method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
                             options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
                             keywords=keywords)
    out = set()
    for _file, _line, message, _comments, _context in found:
        out.add(message if isinstance(message, str) else message[0])
    return out


@pytest.fixture(scope="module")
def messages() -> set[str]:
    msgs = source_messages()
    assert len(msgs) > 150
    return msgs


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_complete(lang: str, messages: set[str]) -> None:
    po = WEB / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    missing, fuzzy, bad = [], [], []
    for msgid in sorted(messages):
        entry = catalog.get(msgid)
        if entry is None or not entry.string:
            missing.append(msgid)
            continue
        if entry.fuzzy:
            fuzzy.append(msgid)
        if sorted(_PLACEHOLDER.findall(msgid)) != sorted(_PLACEHOLDER.findall(str(entry.string))):
            bad.append(msgid)
    assert not missing, f"{lang}: untranslated (run make i18n, then translate): {missing}"
    assert not fuzzy, f"{lang}: fuzzy entries: {fuzzy}"
    assert not bad, f"{lang}: placeholders differ: {bad}"
    compiled = Translations.load(str(WEB / "translations"), [lang])
    stale = [m for m in messages if compiled.gettext(m) != catalog.get(m).string]
    assert not stale, f"{lang}: messages.mo is out of date (run make i18n): {stale[:5]}"
