"""MediaPipe selfie segmentation run beside BodyPix, its person scores blended into BodyPix's
(``model.selfie``, ``segmentation.selfie_weight``).

Why two models: BodyPix finds people of every size and gives parts and poses, but its person
outline is coarse (one score per 16 input pixels) and it misses odd clothing (a tutu, a hat);
MediaPipe's selfie model, trained on video-call framing, draws close-up outlines much better and
misses small people. A weighted mean of the two probabilities keeps BodyPix's decisions where it
is sure and lets the selfie model move the outline where BodyPix hesitates (measured on
../shared/data: README, "Person mask accuracy").

The published files use one MediaPipe custom op, ``Convolution2DTransposeBias`` (a transposed
convolution plus bias, for the last upsampling); LiteRT's XNNPACK delegate, which we run anyway,
implements it, so the stock interpreter runs the files as they are.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vcamseg.errors import ModelError


class SelfieModel:
    """One MediaPipe selfie model on the CPU: a BGR image in, person probability x 255 out."""

    def __init__(self, path: Path, threads: int) -> None:
        from vcamseg.segmentation.backends.tflite import open_interpreter

        self.path = path
        fix = (
            f"replace {path} with the official file (`vcamseg models list` shows where it comes from), or set "
            "model.selfie: off"
        )
        try:
            self._interp = open_interpreter(path, max(1, threads))
            self._interp.allocate_tensors()
        except Exception as exc:  # the interpreter raises RuntimeError/ValueError on a file it cannot run
            raise ModelError(f"{path} is not a TFLite model that can run here ({exc})", fix=fix) from None
        details = self._interp.get_input_details()[0]
        _, self.height, self.width, channels = (int(v) for v in details["shape"])
        if channels != 3:
            raise ModelError(f"{path} takes {channels}-channel images, not RGB", fix=fix)
        self._input_index = details["index"]
        self._output_index = self._interp.get_output_details()[0]["index"]
        self._input = np.empty((1, self.height, self.width, 3), np.float32)

    def scores(self, image: np.ndarray) -> np.ndarray:
        """Person probability x 255 (uint8, the model's height x width) for a BGR uint8 image."""
        small = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        rgb = self._input[0]
        rgb[...] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        rgb *= np.float32(1.0 / 255.0)  # the model takes RGB in [0, 1]
        self._interp.set_tensor(self._input_index, self._input)
        self._interp.invoke()
        probability = self._interp.get_tensor(self._output_index)[0, :, :, 0]
        return (np.clip(probability, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def blend(bodypix: np.ndarray, selfie: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * bodypix + weight * selfie`` (uint8 scores), at ``bodypix``'s size."""
    h, w = bodypix.shape[:2]
    if selfie.shape[:2] != (h, w):
        selfie = cv2.resize(selfie, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(bodypix, 1.0 - weight, selfie, weight, 0.0)
