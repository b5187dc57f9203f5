"""Photo renditions (django-imagekit): written once, when a photo is saved.

The catalogue and the product page only build the renditions' URLs: no file is opened
or checked while a page renders (see docs/decisions/0004-photos-and-search.md).
"""

import math
import warnings

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from imagekit.models import ImageSpecField
from PIL import Image, ImageOps
from pilkit.processors import ResizeToFill, ResizeToFit

CARD_SIZES = (320, 640)  # square, cropped: catalogue cards, cart, gallery thumbnails
PHOTO_SIZES = (640, 1200)  # square, the whole photo on a neutral mat: the product page
PHOTO_MAT = (239, 233, 223)  # the placeholder's colour in shop.css
RENDITION_FORMAT = "WEBP"
RENDITION_OPTIONS = {"quality": 82}


def register_formats() -> None:
    """Let Pillow open HEIC/HEIF photos (iPhones' default format) through pillow-heif: the
    upload's check, and the renditions, which are WebP like any other."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


class ExifTranspose:
    """pilkit processor: turn the photo the way its EXIF orientation says. Phones store a
    portrait sideways with a "rotate 90°" tag; browsers honour the tag on the original, so
    every rendition (which carries no EXIF) must be turned before it is cut or resized."""

    def process(self, img: Image.Image) -> Image.Image:
        ImageOps.exif_transpose(img, in_place=True)
        return img


class GenerateOnSave:
    """imagekit cache-file strategy: write the renditions when their photo is saved
    (always, even if a cache says a file of that name exists), never while rendering."""

    def on_source_saved(self, file) -> None:
        # Each rendition starts from a shrunk decode of the photo (see Shrink).
        file.generator.processors = [Shrink(), *file.generator.processors]
        file.generate(force=True)

    def should_verify_existence(self, file) -> bool:
        return False


class Shrink:
    """pilkit processor, first of every rendition: decode no more of the photo than the
    largest rendition needs (twice its size). A JPEG is decoded at 1/2, 1/4 or 1/8 of its size
    by the decoder itself (`draft`): a 40 MP photo takes ~30 MB instead of ~120 MB; any other
    format is decoded whole, then reduced by an integer factor before the other processors
    copy it. What a worker holds for a rendition stays far under its ~250 MB (SPEC §13)."""

    def __init__(self, longest: int = 2 * max(PHOTO_SIZES)) -> None:
        self.longest = longest

    def process(self, img: Image.Image) -> Image.Image:
        width, height = img.size
        scale = self.longest / max(width, height)
        if scale >= 0.5:
            return img
        if img.format == "JPEG":
            img.draft(img.mode, (math.ceil(width * scale), math.ceil(height * scale)))
        factor = int(max(img.size) // self.longest)
        return img.reduce(factor) if factor >= 2 else img


def card(size: int) -> ImageSpecField:
    return ImageSpecField(
        source="image",
        processors=[ExifTranspose(), ResizeToFill(size, size)],
        format=RENDITION_FORMAT,
        options=RENDITION_OPTIONS,
    )


def photo(size: int) -> ImageSpecField:
    return ImageSpecField(
        source="image",
        processors=[ExifTranspose(), ResizeToFit(size, size, mat_color=PHOTO_MAT)],
        format=RENDITION_FORMAT,
        options=RENDITION_OPTIONS,
    )


# Larger photos are refused before they are decoded (SPEC §13). Pillow holds 4 bytes a pixel
# (RGB is stored as RGBX), and a worker must stay under ~250 MB with its ~80 MB of Django:
# - a JPEG is decoded at 1/2, 1/4 or 1/8 of its size for the renditions (Shrink): 40 MP, more
#   than any camera a shop photographs its pieces with (a 24 MP camera: 6000 × 4000), took
#   the worker to 131 MB under gunicorn;
# - any other format (PNG, WebP, HEIC) is decoded whole: 40 MP is 160 MB of pixels, which took
#   the worker to 263 MB, 32 MP to 245 MB; 30 MP (120 MB) leaves a margin.
MAX_PHOTO_PIXELS = 40_000_000
MAX_WHOLE_DECODE_PIXELS = 30_000_000


def check_photo_size(file) -> None:
    """Validator of the photo fields: refuse, in French, a photo whose header says it has more
    pixels than its format allows (above). Only the header is read (Pillow opens lazily): a
    small file that claims a huge image is refused without being decoded."""
    try:
        file.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below
            with Image.open(file) as image:
                width, height = image.size
                kind = image.format or ""
    except Exception:  # not an image: the ImageField's own check says so
        return
    finally:
        file.seek(0)
    limit = MAX_PHOTO_PIXELS if kind == "JPEG" else MAX_WHOLE_DECODE_PIXELS
    if width * height <= limit:
        return
    params = {
        "width": number_format(width, force_grouping=True),
        "height": number_format(height, force_grouping=True),
        "mp": number_format(math.ceil(width * height / 100_000) / 10, 1),
        "max": MAX_PHOTO_PIXELS // 1_000_000,
        "max_other": MAX_WHOLE_DECODE_PIXELS // 1_000_000,
        "kind": kind,
    }
    if width * height > MAX_PHOTO_PIXELS:
        message = (
            "Cette photo est trop grande : %(width)s × %(height)s pixels (%(mp)s mégapixels). "
            "La boutique accepte au plus %(max)s mégapixels : réduisez-la (par exemple à "
            "6 000 pixels de large) puis envoyez-la à nouveau."
        )
    else:
        message = (
            "Cette photo %(kind)s est trop grande pour être traitée : %(width)s × %(height)s "
            "pixels (%(mp)s mégapixels). En %(kind)s, la boutique accepte au plus "
            "%(max_other)s mégapixels (%(max)s en JPEG) : enregistrez-la en JPEG ou "
            "réduisez-la, puis envoyez-la à nouveau."
        )
    raise ValidationError(message, code="photo_too_large", params=params)
