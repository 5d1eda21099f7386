"""The Japanese font every document embeds (IPAexGothic), for reportlab and matplotlib.

Debian's `fonts-ipaexfont` installs it; `WATTBIT_JP_FONT` may point elsewhere. A PDF
embeds the font, so it reads the same on any machine; without the font we refuse with a
clear message rather than print boxes instead of Japanese.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

FONT_NAME = "IPAexGothic"
DEFAULT_FONT_PATH = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"


class FontMissing(RuntimeError):
    """The Japanese font is not installed: documents cannot be rendered."""


def font_path() -> Path:
    path = Path(os.environ.get("WATTBIT_JP_FONT", DEFAULT_FONT_PATH))
    if not path.is_file():
        raise FontMissing(
            f"Japanese font not found at {path}: install Debian's fonts-ipaexfont "
            "(apt-get install fonts-ipaexfont) or set WATTBIT_JP_FONT to an IPAexGothic .ttf"
        )
    return path


@cache
def reportlab_font() -> str:
    """Register IPAexGothic with reportlab once; returns the font name to use in styles."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path())))
    return FONT_NAME


@cache
def matplotlib_font() -> str:
    """Add IPAexGothic to matplotlib's font manager once; returns the family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return FONT_NAME
