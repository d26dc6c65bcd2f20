"""Media facts shared by sources, sinks and commands: which file names are still images, THE image
loader, and how a FOURCC code reads.

One copy each, on purpose: the image suffixes decide both whether a source file is shown as a
still picture and whether an output file is written as one, so the two must never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vcamseg.errors import InputError

if TYPE_CHECKING:
    import numpy as np

# Still-image file names (lower case), for sources and outputs alike. `.pgm` is in: OpenCV reads it,
# and an output named so gets a grey picture (the format holds nothing else; see GREY_ONLY_SUFFIXES).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})
# Image formats OpenCV writes only from a single-channel picture.
GREY_ONLY_SUFFIXES = frozenset({".pgm"})

IMAGE_FIX = "use a PNG, JPEG, BMP, WebP or TIFF file"


def is_image_path(spec: str | Path) -> bool:
    """Whether a file name names a still image (by its suffix, case-insensitively)."""
    return Path(spec).suffix.lower() in IMAGE_SUFFIXES


def read_image(path: Path) -> np.ndarray:
    """THE image loader: ``path`` as a BGR uint8 array of shape (height, width, 3).

    Grey images are expanded to BGR, an alpha channel is dropped (not composited), 16-bit images
    are scaled to 8-bit (their high byte: /256) and the EXIF orientation is applied: exactly
    OpenCV's IMREAD_COLOR, which the still-image source and the replace effect have always used.
    Raises `InputError` naming the file and the fix when it is missing, unreadable or not a
    picture OpenCV decodes."""
    # Imported here, not at the top: the suffixes and fourcc_text also serve the V4L2 layer and
    # `vcamseg devices`, which need neither OpenCV nor numpy.
    import cv2
    import numpy as np

    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise InputError(f"image {path} does not exist", fix="check the path") from None
    except OSError as exc:  # a folder, no permission, an I/O error
        raise InputError(
            f"image {path} cannot be read ({exc.strerror or exc})", fix="check that it is a file you may read"
        ) from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise InputError(
            f"image {path} cannot be read: the file is not a readable image "
            "(empty, cut off, or a format OpenCV does not decode)",
            fix=IMAGE_FIX,
        )
    return image


def fourcc_text(code: int) -> str:
    """A V4L2/OpenCV FOURCC code (four little-endian ASCII bytes) as text: ``0x47504A4D`` -> ``"MJPG"``.
    Padding NULs and spaces at the end are dropped (``"Y16 "`` -> ``"Y16"``); ``"?"`` when nothing
    is left (OpenCV reports 0 for a format it does not know)."""
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).rstrip("\0 ") or "?"
