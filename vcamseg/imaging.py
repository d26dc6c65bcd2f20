"""Image arithmetic shared across layers: fast area downscaling (the model input, and the
reduced-resolution work of the effects: matte, background blur, pixel cells) and the one mask IoU
(the int8 check, the benchmarks, the tests).

OpenCV's INTER_AREA has a fast path for an exact factor of 2 only; a direct 8x reduction of a
1280x720 BGR frame takes ~5x longer than halving it three times (same box average). Odd sizes
lose their last row/column before a halving (one pixel, invisible at these scales) rather than
falling off the fast path.
"""

from __future__ import annotations

import cv2
import numpy as np


def shrink(
    image: np.ndarray, size: tuple[int, int], dst: np.ndarray | None = None, last: int = cv2.INTER_AREA
) -> np.ndarray:
    """Box-average ``image`` down to ``size`` = (width, height); returns ``image`` itself if it
    already has that size. The last, non-halving step uses ``last`` (INTER_LINEAR is ~3x cheaper
    than INTER_AREA there and, after the halvings, aliases little). Upscaling: use cv2.resize."""
    width, height = size
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        h, w = image.shape[:2]
        even = image[: h - h % 2, : w - w % 2]
        image = cv2.resize(even, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    if image.shape[1] == width and image.shape[0] == height:
        if dst is not None:
            np.copyto(dst, image)
            return dst
        return image
    return cv2.resize(image, (width, height), dst=dst, interpolation=last)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (bool, or uint8 where > 0 is set); 1.0 when both are
    empty."""
    ma, mb = (m if m.dtype == np.bool_ else m > 0 for m in (a, b))
    union = np.count_nonzero(ma | mb)
    return np.count_nonzero(ma & mb) / union if union else 1.0
