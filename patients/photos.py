"""Before/after photos: validate by content, re-encode without metadata, encrypt on disk.

Nothing the browser says is trusted: not the file name, not the content type. Pillow must
recognise the bytes as an allowed image format, the pixel count is checked before decoding
(decompression bombs), and the stored file is a fresh JPEG built from raw pixels only, so EXIF
(GPS position, device, owner), XMP, ICC and comments are all gone."""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from cinrella import crypto

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_EDGE = 4096  # larger images are scaled down on re-encode
JPEG_QUALITY = 88


class PhotoRejected(ValueError):
    """The upload is not an acceptable image; the message is safe to show the user."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width: int
    height: int


def max_bytes() -> int:
    return getattr(settings, "PATIENT_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_pixels() -> int:
    return getattr(settings, "PATIENT_PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS)


def clean_image(upload) -> CleanImage:
    """Validated, re-encoded JPEG bytes of an uploaded file, or PhotoRejected."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes():
        raise PhotoRejected(f"The photo is too large (limit {max_bytes() // (1024 * 1024)} MB).")
    raw = upload.read(max_bytes() + 1)
    if len(raw) > max_bytes():
        raise PhotoRejected(f"The photo is too large (limit {max_bytes() // (1024 * 1024)} MB).")
    if not raw:
        raise PhotoRejected("The file is empty.")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            image_format = probe.format
            width, height = probe.size
        if image_format not in ALLOWED_FORMATS:
            raise PhotoRejected("Upload a JPEG, PNG or WebP photo.")
        if width * height > max_pixels():
            raise PhotoRejected("The photo has too many pixels.")
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            # Bake the EXIF orientation into the pixels before the EXIF block is dropped.
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((DEFAULT_MAX_EDGE, DEFAULT_MAX_EDGE))
            # A new image from raw pixels carries no metadata at all.
            bare = Image.frombytes("RGB", image.size, image.tobytes())
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejected("That file is not a photo we can read. Upload a JPEG, PNG or WebP image.") from exc
    out = io.BytesIO()
    bare.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanImage(data=out.getvalue(), width=bare.width, height=bare.height)


def photo_dir() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "patient-photos"


def path_for(storage_name: uuid.UUID) -> Path:
    return photo_dir() / f"{storage_name}.jpg.fernet"


def write_encrypted(storage_name: uuid.UUID, data: bytes) -> Path:
    directory = photo_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path_for(storage_name)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(crypto.encrypt_bytes(data))
    os.chmod(tmp, 0o600)
    tmp.replace(target)  # atomic: a reader never sees half a file
    return target


def read_decrypted(storage_name: uuid.UUID) -> bytes:
    return crypto.decrypt_bytes(path_for(storage_name).read_bytes())
