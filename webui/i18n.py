"""Message catalogs, gettext style: the English text is the message id.

`i18n/zh_CN.json` maps each id to Simplified Chinese (the default language);
`i18n/en.json` holds English overrides only (usually none). A missing translation falls
back to the id, so a page never shows a blank.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from firmware.db.models import LANGUAGES

DEFAULT = "zh_CN"
CATALOG_DIR = Path(__file__).parent / "i18n"
LABELS = {"zh_CN": "中文", "en": "English"}

Translator = Callable[[str], str]


@cache
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOG_DIR / f"{lang}.json").read_text("utf-8"))
    return data


def normalize(lang: str | None) -> str | None:
    """A supported language code for `lang` ("zh", "zh-CN", "en-US"...), or None."""
    if not lang:
        return None
    low = lang.strip().replace("-", "_").lower()
    if low.startswith("zh"):
        return "zh_CN"
    if low.startswith("en"):
        return "en"
    return None


def translator(lang: str) -> Translator:
    table = catalog(lang if lang in LANGUAGES else DEFAULT)

    def gettext(msgid: str) -> str:
        return table.get(msgid, msgid)

    return gettext
