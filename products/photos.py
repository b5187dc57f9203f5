"""Photo renditions (django-imagekit): written once, when a photo is saved.

The catalogue and the product page only build the renditions' URLs: no file is opened
or checked while a page renders (see docs/decisions/0004-photos-and-search.md).
"""

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
        file.generate(force=True)

    def should_verify_existence(self, file) -> bool:
        return False


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
