"""Photos attached to reports: checked, bounded, and stripped of metadata.

A phone photo's EXIF can hold the GPS position of the reporter's home and
the device's serial number. We keep only the pixels: the image is decoded,
turned upright (EXIF orientation applied), copied into a fresh image with no
metadata, shrunk to at most ``max_side_px``, and re-encoded.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from layers.errors import ImageTooLargeError, UnusableInputError

#: Formats accepted, as Pillow names them. MPO is what many phones write: a JPEG
#: followed by extra frames (a depth map, a second lens); only the first is kept.
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
#: Largest photo file taken, in MB (of 1024 x 1024 bytes, as Streamlit's upload widget
#: counts them).
MAX_PHOTO_MB = 10
MAX_PHOTO_BYTES = MAX_PHOTO_MB * 1024 * 1024
MAX_SIDE_PX = 2048
#: Most pixels one photo may decode to. A tiny file can claim enormous dimensions
#: ("pixel bomb"); decoding costs up to 4 bytes a pixel (RGBA, the widest mode we
#: decode to), so 25 Mpx keeps one decode near 100 MB (25e6 x 4 B). The check is made
#: on the size in the file's header, before any pixel is decoded. A JPEG larger than
#: this is first asked to decode at 1/2, 1/4 or 1/8 scale (it is shrunk to
#: ``max_side_px`` anyway), and the scaled size is what is checked.
MAX_PIXELS = 25_000_000


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    media_type: str
    width: int
    height: int


def _too_large(width: int, height: int) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"the photo is {width:,} x {height:,} pixels ({width * height / 1e6:.1f} megapixels); "
        f"at most {MAX_PIXELS / 1e6:g} megapixels ({MAX_PIXELS:,} pixels) can be processed. "
        "Send a smaller photo"
    )


def _open(data: bytes) -> Image.Image:
    """Open without decoding; Pillow's own bomb check is replaced by ours (its warning
    fires past ~89 Mpx, which is above our limit, so it adds nothing but noise)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(claimed.group(1)):,} pixels" if claimed else "too many pixels"
        raise ImageTooLargeError(
            f"the photo claims {size}; at most {MAX_PIXELS:,} pixels can be processed"
        ) from None


def clean_photo(data: bytes, *, max_bytes: int = MAX_PHOTO_BYTES,
                max_side_px: int = MAX_SIDE_PX) -> CleanPhoto:
    """Return the photo re-encoded with no metadata, at most ``max_side_px`` on a side.

    JPEG (and MPO, its first frame), PNG and WebP are accepted. The result is a
    JPEG, or a PNG when the photo has transparency.

    Raises
    ------
    UnusableInputError
        Larger than ``max_bytes``, not an image, or an unsupported format.
    ImageTooLargeError
        More than :data:`MAX_PIXELS` pixels would be decoded; checked from the
        header before decoding.
    """
    if len(data) > max_bytes:
        raise UnusableInputError(
            f"the photo is {len(data) / 2**20:.1f} MB; at most {max_bytes / 2**20:.0f} MB")
    try:
        with _open(data) as probe:
            fmt = probe.format
            if fmt not in ACCEPTED_FORMATS:
                raise UnusableInputError(
                    f"photos must be JPEG, PNG or WebP; this one is {fmt or 'unknown'}")
            width, height = probe.size
            if fmt in ("JPEG", "MPO") and width * height > MAX_PIXELS:
                # Decode at a reduced scale, never below the size kept.
                probe.draft(probe.mode, (min(width, max_side_px), min(height, max_side_px)))
            if probe.width * probe.height > MAX_PIXELS:
                raise _too_large(width, height)
            probe.load()  # an MPO loads its first frame
            # Shrink before any copy is made, so only one full-size decode exists.
            probe.thumbnail((max_side_px, max_side_px))
            upright = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise UnusableInputError(f"the photo could not be read as an image ({exc})") from None
    has_alpha = upright.mode in ("RGBA", "LA") or "transparency" in upright.info
    mode = "RGBA" if has_alpha else "RGB"
    pixels = upright.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, format="PNG", optimize=True)
        media_type = "image/png"
    else:
        clean.save(out, format="JPEG", quality=85, optimize=True)
        media_type = "image/jpeg"
    return CleanPhoto(out.getvalue(), media_type, clean.width, clean.height)
