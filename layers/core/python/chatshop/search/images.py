"""Untrusted image bytes in, a safe RGB picture for the image model out, or a clear domain error.

Used by the search API for query photos and by the indexer for product images. The bytes decide
what an image is: the format is sniffed from its magic number and only JPEG, PNG and WebP are
decoded (Pillow is told which decoder to use, so no other of its many parsers sees the bytes). A
declared content type that names another format is an error too, as it means a confused client.

Every rejection is permanent (the same bytes fail the same way) and subclasses
:class:`ImageRejected`, so the indexer records it on the product instead of retrying. Statuses:

==========================  ======  =================================================================
code                        status  meaning
==========================  ======  =================================================================
``image_empty``             400     zero bytes
``image_too_large``         413     more bytes than allowed (10 MB for a query photo)
``image_type_unsupported``  415     not a JPEG, PNG or WebP (whatever it claims), or declared as another
``image_type_mismatch``     415     declared as one accepted format, but the bytes are another
``image_too_many_pixels``   422     more than 40 megapixels, decompression bombs included
``image_truncated``         422     the file ends before the picture does
``image_unreadable``        422     a JPEG/PNG/WebP header over bytes that do not decode
==========================  ======  =================================================================

The pixel limit is checked on the header's dimensions before anything is decompressed, so a small
file that claims a huge picture costs nothing.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

from chatshop.platform.errors import (
    BadRequest,
    ChatshopError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "EMBED_MAX_SIDE",
    "MAX_IMAGE_PIXELS",
    "MAX_QUERY_IMAGE_BYTES",
    "ImageEmpty",
    "ImageRejected",
    "ImageTooLarge",
    "ImageTooManyPixels",
    "ImageTruncated",
    "ImageTypeMismatch",
    "ImageTypeUnsupported",
    "ImageUnreadable",
    "ValidatedImage",
    "sniff_format",
    "validate_image",
]

MAX_QUERY_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
# CLIP sees 224 px; 1024 keeps detail for crops while bounding the memory a request holds.
EMBED_MAX_SIDE = 1024

ACCEPTED_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_CONTENT_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
# Types that say nothing about the bytes (a plain upload, a multipart part without its own type).
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND"
_JPEG_MAGIC = b"\xff\xd8\xff"


# --- errors ----------------------------------------------------------------------------------------


class ImageRejected(ChatshopError):
    """Base of every image rejection: permanent, so never worth a retry."""


class ImageEmpty(ImageRejected, BadRequest):
    code = "image_empty"
    default_message = "The image is empty (zero bytes)."


class ImageTooLarge(ImageRejected, PayloadTooLarge):
    code = "image_too_large"
    default_message = "The image is too large."


class ImageTypeUnsupported(ImageRejected, UnsupportedMediaType):
    code = "image_type_unsupported"
    default_message = "The file is not a JPEG, PNG or WebP image."


class ImageTypeMismatch(ImageRejected, UnsupportedMediaType):
    code = "image_type_mismatch"
    default_message = "The declared content type does not match the image's bytes."


class _ImageInvalid(ImageRejected, ValidationFailed):
    """A 422 about the ``image`` field, built like the other image errors."""

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        ValidationFailed.__init__(self, ["image"], message or self.default_message)
        if details:
            assert self.details is not None
            self.details.update(details)


class ImageTooManyPixels(_ImageInvalid):
    code = "image_too_many_pixels"
    default_message = "The image has too many pixels."


class ImageTruncated(_ImageInvalid):
    code = "image_truncated"
    default_message = "The image file is truncated."


class ImageUnreadable(_ImageInvalid):
    code = "image_unreadable"
    default_message = "The image could not be decoded."


# --- validation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidatedImage:
    image: Image.Image  # RGB, upright (EXIF orientation applied), at most EMBED_MAX_SIDE a side
    format: str  # "JPEG", "PNG" or "WEBP"
    content_type: str
    width: int  # of the file as uploaded, before orientation and downscaling
    height: int
    byte_size: int


def sniff_format(data: bytes) -> str | None:
    """JPEG, PNG or WEBP from the magic number, or None for anything else."""
    if data.startswith(_JPEG_MAGIC):
        return "JPEG"
    if data.startswith(_PNG_MAGIC):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def validate_image(
    data: bytes,
    declared_type: str | None = None,
    *,
    max_bytes: int | None = MAX_QUERY_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_side: int = EMBED_MAX_SIDE,
) -> ValidatedImage:
    """Check ``data`` and decode it fully; raise an :class:`ImageRejected` subclass if it fails."""
    if not data:
        raise ImageEmpty()
    if max_bytes is not None and len(data) > max_bytes:
        raise ImageTooLarge(
            f"The image is {len(data)} bytes; at most {max_bytes} are accepted.",
            details={"bytes": len(data), "max_bytes": max_bytes},
        )
    image_format = sniff_format(data)
    if image_format is None:
        raise ImageTypeUnsupported()
    _check_declared_type(declared_type, image_format)
    _check_complete(data, image_format)
    image, width, height = _decode(data, image_format, max_pixels, max_side)
    return ValidatedImage(
        image=image,
        format=image_format,
        content_type=ACCEPTED_CONTENT_TYPES[image_format],
        width=width,
        height=height,
        byte_size=len(data),
    )


def _check_declared_type(declared_type: str | None, image_format: str) -> None:
    declared = _normalise_content_type(declared_type)
    if declared in _UNDECLARED:
        return
    actual = ACCEPTED_CONTENT_TYPES[image_format]
    if declared == actual:
        return
    details = {"declared": declared, "detected": actual}
    if declared in ACCEPTED_CONTENT_TYPES.values():
        raise ImageTypeMismatch(
            f"The content type says {declared} but the bytes are {actual}.", details=details
        )
    raise ImageTypeUnsupported(
        f"{declared} is not accepted; send a JPEG, PNG or WebP image.", details=details
    )


def _normalise_content_type(content_type: str | None) -> str:
    bare = (content_type or "").split(";", 1)[0].strip().lower()
    return _CONTENT_TYPE_ALIASES.get(bare, bare)


def _check_complete(data: bytes, image_format: str) -> None:
    """Catch the truncations Pillow forgives: it decodes a PNG cut after its last pixel, and
    cannot tell a cut WebP from a broken one."""
    if image_format == "PNG" and data.rfind(_PNG_END) == -1:
        raise ImageTruncated("The PNG file ends before its IEND chunk.")
    if image_format == "WEBP":
        (riff_size,) = struct.unpack("<I", data[4:8])
        if len(data) < riff_size + 8:
            raise ImageTruncated(
                f"The WebP file is {len(data)} bytes; its header announces {riff_size + 8}.",
            )


def _decode(data: bytes, image_format: str, max_pixels: int, max_side: int) -> tuple[Image.Image, int, int]:
    try:
        image = Image.open(io.BytesIO(data), formats=[image_format])
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels(width, height, max_pixels)
        # Lets the JPEG decoder scale down by 1/2..1/8 while decoding: a 40 MP photo never
        # exists at full size in memory.
        image.draft("RGB", (max_side, max_side))
        image.load()
        return _for_embedding(image, max_side), width, height
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own limit, hit before our check could read the size.
        raise ImageTooManyPixels(f"The image claims too many pixels: {exc}") from None
    except (OSError, EOFError) as exc:
        if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
            raise ImageTruncated() from None
        raise ImageUnreadable(f"The {image_format} image could not be decoded.") from None
    except Exception:  # Pillow's parsers raise many types on hostile bytes
        raise ImageUnreadable(f"The {image_format} image could not be decoded.") from None


def _too_many_pixels(width: int, height: int, max_pixels: int) -> ImageTooManyPixels:
    return ImageTooManyPixels(
        f"The image is {width}x{height} ({width * height} pixels); at most {max_pixels} are accepted.",
        details={"width": width, "height": height, "max_pixels": max_pixels},
    )


def _for_embedding(image: Image.Image, max_side: int) -> Image.Image:
    upright = ImageOps.exif_transpose(image)
    rgb = _to_rgb(upright)
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return rgb


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.has_transparency_data:
        # Product shots with transparency are cut-outs; white is what a shop would put behind them.
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")
