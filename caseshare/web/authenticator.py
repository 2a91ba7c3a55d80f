"""What the authenticator set-up page shows: the set-up link as a QR code drawn as inline SVG
(the CSP allows no script and no data: images, and the code must work without JavaScript), and
the key in groups of four for typing by hand. Nothing here logs or stores the key."""

from __future__ import annotations

import re

import segno
from markupsafe import Markup

# The widest the code may be drawn (CSS px): it must fit a 320 px screen beside the page margins.
MAX_WIDTH = 240
QR_LABEL = "QR code of the set-up link: scan it with your authenticator app"
# segno's inline SVG is generated from the link, never copied from it: only these elements and
# attributes, with numbers, colours and path commands as values. Anything else is refused rather
# than marked safe.
_SAFE_SVG = re.compile(
    r'^<svg width="\d+" height="\d+" class="cs-qr">'
    r'<g transform="scale\(\d+\)">'
    r'(?:<path (?:fill|stroke)="#[0-9a-f]{3,6}" d="[MmHhVvZz0-9. -]+"/>)+'
    r"</g></svg>$"
)


def qr_code_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline <svg> with a text alternative (role img, aria-label)."""
    code = segno.make(uri, error="m", micro=False)
    width, _height = code.symbol_size(scale=1, border=4)
    scale = max(1, min(4, MAX_WIDTH // width))
    svg = code.svg_inline(scale=scale, border=4, svgclass="cs-qr", lineclass=None, title=None,
                          dark="#0b0c0c", light="#fff")
    if not _SAFE_SVG.match(svg):
        raise ValueError("unexpected SVG from the QR code generator")
    labelled = svg.replace('class="cs-qr">',
                           f'class="cs-qr" role="img" aria-label="{QR_LABEL}" focusable="false">',
                           1)
    return Markup(labelled)  # noqa: S704 (generated markup checked against _SAFE_SVG above)


def grouped_key(secret: str) -> str:
    """"ABCDEFGH..." as "ABCD EFGH ...": easier to read out and type into an app by hand
    (authenticator apps ignore the spaces)."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
