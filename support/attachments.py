"""Which uploads a message may carry: images only (PNG, JPEG, GIF, WebP) as Pillow decodes them, whatever
their name or the content type the browser declared (an SVG, or an HTML page named .png, is refused), at
most SUPPORT_ATTACHMENTS_PER_MESSAGE of at most SUPPORT_ATTACHMENT_MAX_BYTES each. The stored content type
is the decoded format's; the stored name is random (support/models.py); the customer's file name is kept
only as text, cleaned."""

import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from .errors import SupportError
from .models import BODY_MAX_LENGTH, NAME_MAX_LENGTH

# MPO is how Pillow names a JPEG with a multi-picture block, as phone cameras write them: a JPEG to browsers.
FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
FIELD = "images"


@dataclass(frozen=True)
class Upload:
    file: object  # the uploaded file, rewound
    name: str
    content_type: str
    size: int


def upload_limit() -> int:
    """The most a post of a message may weigh: its images at their largest, the text (4 bytes a character
    at most) and room for the form's fields and the multipart framing."""
    images = settings.SUPPORT_ATTACHMENTS_PER_MESSAGE * settings.SUPPORT_ATTACHMENT_MAX_BYTES
    return images + 4 * BODY_MAX_LENGTH + 64 * 1024


def clean_name(name: str) -> str:
    """The file's own name (no folders), without control characters, at most NAME_MAX_LENGTH long."""
    name = PureWindowsPath(PurePosixPath(str(name or "")).name).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        keep = NAME_MAX_LENGTH - len(dot + extension) if dot and len(extension) <= 10 else NAME_MAX_LENGTH
        name = (stem[:keep] + dot + extension) if dot and len(extension) <= 10 else name[:keep]
    return name or "image"


def uploads_check(files) -> list[Upload]:
    """The uploads as they will be stored, or SupportError naming the first refused file."""
    files = [file for file in files or [] if file]
    most = settings.SUPPORT_ATTACHMENTS_PER_MESSAGE
    if len(files) > most:
        text = ngettext("At most %(count)d image per message.", "At most %(count)d images per message.", most)
        raise SupportError(text % {"count": most}, field=FIELD)
    return [_checked(file) for file in files]


def _checked(file) -> Upload:
    name = clean_name(getattr(file, "name", ""))
    size = file.size
    limit = settings.SUPPORT_ATTACHMENT_MAX_BYTES
    if size > limit:
        text = _("%(name)s is larger than %(limit)s.")
        raise SupportError(text % {"name": name, "limit": filesizeformat(limit)}, field=FIELD)
    content_type = _image_type(file)
    if content_type is None:
        text = _("%(name)s is not an image: only PNG, JPEG, GIF and WebP images can be attached.")
        raise SupportError(text % {"name": name}, field=FIELD)
    file.seek(0)
    return Upload(file=file, name=name, content_type=content_type, size=size)


def _image_type(file) -> str | None:
    """The content type of the image Pillow reads in the file, if it is one of FORMATS; else None."""
    try:
        file.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                found = image.format
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    except (OSError, SyntaxError, ValueError, EOFError):  # what a truncated or broken image raises
        return None
    return FORMATS.get(found)
