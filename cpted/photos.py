"""Photos attached to reports: checked, bounded, and stripped of metadata.

A phone photo's EXIF can hold the GPS position of the reporter's home and
the device's serial number. We keep only the pixels: the image is decoded,
turned upright (EXIF orientation applied), copied into a fresh image with no
metadata, shrunk to at most ``max_side_px``, and re-encoded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from layers.errors import UnusableInputError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_SIDE_PX = 2048
# Decoding a tiny file that claims enormous dimensions can exhaust memory ("pixel bomb").
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    media_type: str
    width: int
    height: int


def clean_photo(data: bytes, *, max_bytes: int = MAX_PHOTO_BYTES,
                max_side_px: int = MAX_SIDE_PX) -> CleanPhoto:
    """Return the photo re-encoded with no metadata.

    Raises
    ------
    UnusableInputError
        Too large, not an image, an unsupported format, or too many pixels.
    """
    if len(data) > max_bytes:
        raise UnusableInputError(
            f"the photo is {len(data) / 2**20:.1f} MB; at most {max_bytes / 2**20:.0f} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in ACCEPTED_FORMATS:
                raise UnusableInputError(
                    f"photos must be JPEG, PNG or WebP; this one is {fmt or 'unknown'}")
            if probe.width * probe.height > MAX_PIXELS:
                raise UnusableInputError(
                    f"the photo is {probe.width} x {probe.height} pixels; too large to process")
            probe.load()
            upright = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UnusableInputError(f"the photo could not be read as an image ({exc})") from None
    has_alpha = upright.mode in ("RGBA", "LA") or "transparency" in upright.info
    mode = "RGBA" if has_alpha else "RGB"
    pixels = upright.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    clean.thumbnail((max_side_px, max_side_px))
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, format="PNG", optimize=True)
        media_type = "image/png"
    else:
        clean.save(out, format="JPEG", quality=85, optimize=True)
        media_type = "image/jpeg"
    return CleanPhoto(out.getvalue(), media_type, clean.width, clean.height)
