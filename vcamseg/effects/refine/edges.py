"""Image-guided edge refinement: the fast guided filter (He & Sun 2015), grey or colour guide.

The filter fits, in every window, the mask as a linear function of the guide image
(``q = a . I + b``). The coefficients are smooth, so they are computed at reduced resolution
and applied to the full-resolution guide: the matte's edges then follow the frame's own edges
at full resolution for the cost of a few small-image box filters.

All window sums of one pass go through a single multi-channel ``cv2.boxFilter`` and every
intermediate lives in a reused buffer: at 320x180 the arithmetic takes well under a
millisecond, and fresh temporaries (page faults) would cost several times that.
"""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.effects.kernels.buffers import Buffers


class GuidedFilter:
    """Computes guided-filter coefficients at working resolution, reusing its buffers."""

    def __init__(self) -> None:
        self._buffers = Buffers()

    def coefficients(
        self, guide: np.ndarray, src: np.ndarray, radius: int, eps: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Window-averaged ``(a, b)`` with ``src ~ a . guide + b``.

        ``guide`` is float32 (h, w) or (h, w, 3) in [0, 1], ``src`` float32 (h, w) in [0, 1];
        ``radius`` in working pixels; ``eps`` regularises (larger = smoother, weak edges are
        followed less). ``a`` has the guide's channels. Both are scratch buffers, valid until
        the next call."""
        if guide.ndim == 2:
            return self._grey(guide, src, radius, eps)
        return self._color(guide, src, radius, eps)

    def _grey(self, guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
        h, w = src.shape
        k = (2 * radius + 1, 2 * radius + 1)
        buf = self._buffers
        stack = buf.get("stack", (h, w, 4), np.float32)  # I, p, I*p, I*I
        stack[..., 0] = guide
        stack[..., 1] = src
        np.multiply(guide, src, out=stack[..., 2])
        np.multiply(guide, guide, out=stack[..., 3])
        means = cv2.boxFilter(stack, -1, k, dst=buf.get("means", (h, w, 4), np.float32))
        mean_i, mean_p, mean_ip, mean_ii = (means[..., c] for c in range(4))
        tmp = buf.get("tmp", (h, w), np.float32)
        coeffs = buf.get("coeffs", (h, w, 2), np.float32)
        a, b = coeffs[..., 0], coeffs[..., 1]
        np.multiply(mean_i, mean_p, out=tmp)
        np.subtract(mean_ip, tmp, out=a)  # cov(I, p)
        np.multiply(mean_i, mean_i, out=tmp)
        np.subtract(mean_ii, tmp, out=tmp)
        tmp += np.float32(eps)  # var(I) + eps
        np.divide(a, tmp, out=a)
        np.multiply(a, mean_i, out=tmp)
        np.subtract(mean_p, tmp, out=b)
        smooth = cv2.boxFilter(coeffs, -1, k, dst=buf.get("smooth", (h, w, 2), np.float32))
        return smooth[..., 0], smooth[..., 1]

    def _color(self, guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
        h, w = src.shape
        k = (2 * radius + 1, 2 * radius + 1)
        buf = self._buffers
        # Channels: I_b, I_g, I_r, p, I_c*p (3), then the 6 products of the guide's covariance.
        stack = buf.get("cstack", (h, w, 13), np.float32)
        stack[..., 0:3] = guide
        stack[..., 3] = src
        np.multiply(guide, src[..., None], out=stack[..., 4:7])
        for slot, (i, j) in enumerate(_PAIRS, start=7):
            np.multiply(guide[..., i], guide[..., j], out=stack[..., slot])
        means = cv2.boxFilter(stack, -1, k, dst=buf.get("cmeans", (h, w, 13), np.float32))
        mean_i = [buf.get(f"mi{c}", (h, w), np.float32) for c in range(3)]
        for c in range(3):
            np.copyto(mean_i[c], means[..., c])
        mean_p = buf.get("mp", (h, w), np.float32)
        np.copyto(mean_p, means[..., 3])
        tmp = buf.get("tmp", (h, w), np.float32)
        cov = [buf.get(f"cov{c}", (h, w), np.float32) for c in range(3)]
        for c in range(3):
            np.multiply(mean_i[c], mean_p, out=tmp)
            np.subtract(means[..., 4 + c], tmp, out=cov[c])
        sigma = {}
        for slot, (i, j) in enumerate(_PAIRS, start=7):
            s = buf.get(f"s{i}{j}", (h, w), np.float32)
            np.multiply(mean_i[i], mean_i[j], out=tmp)
            np.subtract(means[..., slot], tmp, out=s)
            if i == j:
                s += np.float32(eps)
            sigma[i, j] = sigma[j, i] = s
        # a = Sigma^-1 cov with the adjugate of the symmetric 3x3 Sigma (cofactors C_ij).
        cof = {}
        for i, j in _PAIRS:
            (r1, r2), (c1, c2) = _OTHERS[i], _OTHERS[j]
            c = buf.get(f"c{i}{j}", (h, w), np.float32)
            np.multiply(sigma[r1, c1], sigma[r2, c2], out=c)
            np.multiply(sigma[r1, c2], sigma[r2, c1], out=tmp)
            np.subtract(c, tmp, out=c)
            if (i + j) % 2:
                np.negative(c, out=c)
            cof[i, j] = cof[j, i] = c
        det = buf.get("det", (h, w), np.float32)
        np.multiply(sigma[0, 0], cof[0, 0], out=det)
        np.multiply(sigma[0, 1], cof[0, 1], out=tmp)
        det += tmp
        np.multiply(sigma[0, 2], cof[0, 2], out=tmp)
        det += tmp
        np.reciprocal(det, out=det)
        coeffs = buf.get("ccoeffs", (h, w, 4), np.float32)  # a_b, a_g, a_r, b
        b = buf.get("b", (h, w), np.float32)
        np.copyto(b, mean_p)
        a = buf.get("a", (h, w), np.float32)
        for i in range(3):
            np.multiply(cof[i, 0], cov[0], out=a)
            for j in (1, 2):
                np.multiply(cof[i, j], cov[j], out=tmp)
                a += tmp
            a *= det
            coeffs[..., i] = a
            np.multiply(a, mean_i[i], out=tmp)
            b -= tmp
        coeffs[..., 3] = b
        smooth = cv2.boxFilter(coeffs, -1, k, dst=buf.get("csmooth", (h, w, 4), np.float32))
        return smooth[..., 0:3], smooth[..., 3]


_PAIRS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
# For cofactor C_ij: the two rows other than i and the two columns other than j.
_OTHERS = {0: (1, 2), 1: (0, 2), 2: (0, 1)}
