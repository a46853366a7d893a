"""Image validation against real bytes: good files of each format, and every way a file goes bad."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from chatshop.platform.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from chatshop.search.images import (
    MAX_QUERY_IMAGE_BYTES,
    ImageEmpty,
    ImageRejected,
    ImageTooLarge,
    ImageTooManyPixels,
    ImageTruncated,
    ImageTypeMismatch,
    ImageTypeUnsupported,
    ImageUnreadable,
    sniff_format,
    validate_image,
)


def picture(size: tuple[int, int] = (120, 80), mode: str = "RGB") -> Image.Image:
    """A picture with detail in it, so that encoders write real entropy-coded data."""
    image = Image.new(mode, size)
    width, height = size
    pixels = [((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(height) for x in range(width)]
    image.putdata(pixels)
    return image


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG structure whose header claims width x height over a few bytes of pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096, 9))
        + png_chunk(b"IEND", b"")
    )


# --- good images -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_each_accepted_format_decodes_to_an_rgb_picture(image_format: str, content_type: str) -> None:
    # Given a real file of the format
    data = encode(picture(), image_format)

    # When it is validated with its true content type
    result = validate_image(data, content_type)

    # Then the picture comes back whole, in RGB, with what was detected
    assert result.image.mode == "RGB"
    assert result.image.size == (120, 80)
    assert (result.format, result.content_type) == (image_format, content_type)
    assert (result.width, result.height, result.byte_size) == (120, 80, len(data))


@pytest.mark.parametrize(
    "declared", [None, "", "application/octet-stream", "image/jpg", "IMAGE/JPEG", "image/jpeg; q=0.9"]
)
def test_undeclared_generic_aliased_and_parameterised_types_are_accepted(declared: str | None) -> None:
    assert validate_image(encode(picture(), "JPEG"), declared).format == "JPEG"


def test_the_exif_orientation_is_applied() -> None:
    # Given a landscape JPEG whose EXIF says "rotate 90 degrees to view"
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(picture((120, 80)), "JPEG", exif=exif.tobytes())

    # Then it comes back upright, as a portrait
    result = validate_image(data)
    assert result.image.size == (80, 120)
    assert (result.width, result.height) == (120, 80)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_a_large_picture_is_downscaled_to_the_embedding_size(image_format: str) -> None:
    data = encode(Image.new("RGB", (4000, 1000), (200, 10, 10)), image_format)

    result = validate_image(data, max_side=1024)

    assert max(result.image.size) == 1024
    assert result.image.size[1] in (255, 256)
    assert (result.width, result.height) == (4000, 1000)


def test_transparency_is_flattened_onto_white() -> None:
    cutout = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    cutout.putpixel((5, 5), (255, 0, 0, 255))

    result = validate_image(encode(cutout, "PNG"))

    assert result.image.getpixel((0, 0)) == (255, 255, 255)
    assert result.image.getpixel((5, 5)) == (255, 0, 0)


def test_grayscale_and_palette_images_become_rgb() -> None:
    for image in (Image.new("L", (8, 8), 128), Image.new("P", (8, 8), 3)):
        assert validate_image(encode(image, "PNG")).image.mode == "RGB"


# --- bad input -----------------------------------------------------------------------------------


def test_zero_bytes_is_image_empty_400() -> None:
    with pytest.raises(ImageEmpty) as caught:
        validate_image(b"", "image/png")
    assert isinstance(caught.value, BadRequest)
    assert (caught.value.code, caught.value.status) == ("image_empty", 400)


def test_more_than_ten_megabytes_is_image_too_large_413() -> None:
    data = encode(picture(), "JPEG")
    oversized = data + b"\x00" * (MAX_QUERY_IMAGE_BYTES + 1 - len(data))

    with pytest.raises(ImageTooLarge) as caught:
        validate_image(oversized, "image/jpeg")

    assert isinstance(caught.value, PayloadTooLarge)
    assert (caught.value.code, caught.value.status) == ("image_too_large", 413)
    assert caught.value.details == {"bytes": MAX_QUERY_IMAGE_BYTES + 1, "max_bytes": MAX_QUERY_IMAGE_BYTES}


def test_the_byte_limit_is_the_callers_choice() -> None:
    data = encode(picture(), "PNG")
    with pytest.raises(ImageTooLarge):
        validate_image(data, max_bytes=len(data) - 1)
    assert validate_image(data, max_bytes=None).format == "PNG"


@pytest.mark.parametrize(
    "data",
    [
        encode(picture(), "GIF"),
        encode(picture(), "BMP"),
        encode(picture(), "TIFF"),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        b"just some text, not a picture",
        b"\x00",
    ],
    ids=["gif", "bmp", "tiff", "pdf", "text", "one-byte"],
)
def test_anything_but_jpeg_png_or_webp_is_image_type_unsupported_415(data: bytes) -> None:
    with pytest.raises(ImageTypeUnsupported) as caught:
        validate_image(data)
    assert isinstance(caught.value, UnsupportedMediaType)
    assert (caught.value.code, caught.value.status) == ("image_type_unsupported", 415)


def test_a_gif_declared_as_a_jpeg_is_still_unsupported() -> None:
    with pytest.raises(ImageTypeUnsupported):
        validate_image(encode(picture(), "GIF"), "image/jpeg")


def test_bytes_of_one_accepted_format_declared_as_another_are_a_type_mismatch_415() -> None:
    with pytest.raises(ImageTypeMismatch) as caught:
        validate_image(encode(picture(), "PNG"), "image/jpeg")
    assert (caught.value.code, caught.value.status) == ("image_type_mismatch", 415)
    assert caught.value.details == {"declared": "image/jpeg", "detected": "image/png"}


@pytest.mark.parametrize("declared", ["image/gif", "text/plain", "application/json"])
def test_good_bytes_declared_as_an_unaccepted_type_are_unsupported(declared: str) -> None:
    with pytest.raises(ImageTypeUnsupported) as caught:
        validate_image(encode(picture(), "PNG"), declared)
    assert caught.value.details == {"declared": declared, "detected": "image/png"}


def test_a_decompression_bomb_is_rejected_from_its_header() -> None:
    # Given a PNG of about 100 bytes that claims 10 gigapixels (Pillow's own bomb limit trips)
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 200

    with pytest.raises(ImageTooManyPixels) as caught:
        validate_image(bomb, "image/png")

    assert isinstance(caught.value, ValidationFailed)
    assert (caught.value.code, caught.value.status) == ("image_too_many_pixels", 422)


def test_more_than_forty_megapixels_is_image_too_many_pixels() -> None:
    # Given 48 megapixels claimed: under Pillow's own limit, over ours
    with pytest.raises(ImageTooManyPixels) as caught:
        validate_image(png_claiming(8000, 6000))

    assert caught.value.details is not None
    assert caught.value.details["fields"] == ["image"]
    assert (caught.value.details["width"], caught.value.details["height"]) == (8000, 6000)
    assert caught.value.details["max_pixels"] == 40_000_000


def test_the_pixel_limit_is_the_callers_choice() -> None:
    data = encode(picture((120, 80)), "PNG")
    with pytest.raises(ImageTooManyPixels):
        validate_image(data, max_pixels=120 * 80 - 1)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("kept", [0.5, 0.9])
def test_a_cut_file_is_image_truncated_422(image_format: str, kept: float) -> None:
    data = encode(picture((200, 150)), image_format)

    with pytest.raises(ImageTruncated) as caught:
        validate_image(data[: int(len(data) * kept)])

    assert (caught.value.code, caught.value.status) == ("image_truncated", 422)


def test_a_png_cut_after_its_pixels_but_before_its_end_is_truncated() -> None:
    data = encode(picture(), "PNG")
    with pytest.raises(ImageTruncated):
        validate_image(data[:-12])  # the IEND chunk


def test_a_header_over_garbage_is_image_unreadable_422() -> None:
    with pytest.raises(ImageUnreadable) as caught:
        validate_image(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8, "image/jpeg")
    assert (caught.value.code, caught.value.status) == ("image_unreadable", 422)


def test_a_png_with_a_corrupt_header_is_unreadable() -> None:
    data = bytearray(encode(picture(), "PNG"))
    data[20] ^= 0xFF  # inside IHDR: its CRC no longer matches
    with pytest.raises(ImageUnreadable):
        validate_image(bytes(data))


def test_every_rejection_is_an_image_rejected_with_a_json_body() -> None:
    cases = [b"", b"text", png_claiming(8000, 6000), encode(picture(), "JPEG")[:200]]
    for data in cases:
        with pytest.raises(ImageRejected) as caught:
            validate_image(data)
        body = caught.value.to_body()
        assert body["error"]["code"].startswith("image_")
        assert body["error"]["message"]


def test_sniffing_reads_the_magic_number_only() -> None:
    assert sniff_format(encode(picture(), "WEBP")) == "WEBP"
    assert sniff_format(encode(picture(), "JPEG")) == "JPEG"
    assert sniff_format(encode(picture(), "PNG")) == "PNG"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVE") is None
    assert sniff_format(b"") is None
