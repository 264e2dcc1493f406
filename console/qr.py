"""QR codes for TOTP enrolment, drawn on the server as SVG (qrcode): the secret never leaves
the service for an external QR image service, and the page embeds it as a data URI that the
Content-Security-Policy allows (``img-src data:``)."""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg


def qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()
