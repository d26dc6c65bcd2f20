"""The segmenter: frame in, `Segmentation` out. Runs preprocessing, the backend (and the selfie
model beside it) and the BodyPix decoding on a model loaded before (`segmentation.loader`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vcamseg.body import PART_NAMES
from vcamseg.config.model import ModelConfig
from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.errors import InputError, ModelError
from vcamseg.imaging import shrink
from vcamseg.models.files import selfie_kind_for
from vcamseg.segmentation.backends import Backend, create_backend
from vcamseg.segmentation.backends.base import gpu_names
from vcamseg.segmentation.backends.tflite import TFLiteBackend
from vcamseg.segmentation.decode import decode
from vcamseg.segmentation.geometry import Geometry
from vcamseg.segmentation.graph import IMAGENET_MEAN_RGB, OUTPUT_INDEX, BodyPixGraph, model_failure
from vcamseg.segmentation.loader import LoadedModel
from vcamseg.segmentation.quantize import Int8Calibrator, cached_int8
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)

# The smallest frame side `infer` takes. `segment` takes any size: a frame whose short side is
# under UPSCALED_SHORT_SIDE is upscaled to it first, because BodyPix finds nobody on a model input
# of a few output cells (four people pictures shrunk to 32x24: mask IoU 0, 0, 0, 0 as they are,
# 0, 0.41, 0.50, 0.87 upscaled to 128; at 64x48: 0, 0.61, 0.62, 0.71 against 0.10, 0.69, 0.80,
# 0.84), and its result is brought back to the frame size.
MIN_SIDE = 16
UPSCALED_SHORT_SIDE = 128
# An upscaled long side never grows past this (a 1x5000 strip becomes 128x5000, not 128x640000).
_MAX_UPSCALED_SIDE = 2048
_OUT = OUTPUT_INDEX
# Channel permutation that swaps left and right parts (for flip averaging).
_MIRROR_PARTS = np.array(
    [PART_NAMES.index(n.replace("left_", "\0").replace("right_", "left_").replace("\0", "right_")) for n in PART_NAMES]
)


@dataclass
class Timings:
    """Milliseconds spent in the last call, by stage."""

    preprocess: float = 0.0
    model: float = 0.0  # BodyPix and, with model.selfie on, the selfie model
    decode: float = 0.0

    @property
    def total(self) -> float:
        return self.preprocess + self.model + self.decode


class Segmenter:
    """Runs one loaded BodyPix variant on frames (BGR uint8, H x W x 3), and the MediaPipe selfie
    model beside it when ``model.selfie`` is on.

    ``backend`` (tests, benchmarks) replaces the one chosen at the first frame; ``calibrator`` is
    a running int8 calibration handed on by `reconfigured`. One thread at a time may call
    `prepare`, `infer` and `segment` (the pipeline's segmentation thread)."""

    def __init__(
        self,
        model: LoadedModel,
        segmentation: SegmentationConfig,
        *,
        backend: Backend | None = None,
        calibrator: Int8Calibrator | None = None,
    ) -> None:
        self.model = model
        self.config = segmentation
        self._backend = backend
        self._calibrator = calibrator
        self.timings = Timings()
        self._input: np.ndarray | None = None
        self._resized: np.ndarray | None = None  # the last frame at the model input size (uint8 BGR)

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            # Chosen at the first frame's size: "auto" times the candidates there.
            raise RuntimeError("backend is chosen on the first frame; call segment() or prepare() first")
        return self._backend

    def reconfigured(self, segmentation: SegmentationConfig) -> Segmenter:
        """A segmenter with other segmentation options that shares this one's loaded model, and its
        backend too when the model's input size rule (internal_resolution, auto_size_px) is the same:
        a live threshold or decoding change costs nothing."""
        same_input = (segmentation.internal_resolution, segmentation.auto_size_px) == (
            self.config.internal_resolution,
            self.config.auto_size_px,
        )
        return Segmenter(
            self.model,
            segmentation,
            backend=self._backend if same_input else None,
            calibrator=self._calibrator if same_input else None,
        )

    def stage_costs(self) -> dict[str, float]:
        """The last call's milliseconds by pipeline stage (pipeline/costs.py names)."""
        t = self.timings
        return {"model_input": t.preprocess, "model": t.model, "decoding": t.decode}

    @property
    def device(self) -> str:
        return self._backend.device if self._backend is not None else "not started"

    def geometry(self, frame_h: int, frame_w: int) -> Geometry:
        scale = self.config.scale_for(frame_h, frame_w)
        return Geometry.for_frame(frame_h, frame_w, scale, self.model.graph.output_stride)

    def prepare(self, frame_h: int, frame_w: int) -> None:
        """Pick and warm the backend for frames of this size (done by the first segment() otherwise):
        a model that cannot run here fails now, as a ModelError, not in the first frame."""
        if self._backend is not None:
            return
        geom = self.geometry(frame_h, frame_w)
        graph = self.model.graph
        self._backend = _started_backend(graph, self.model.config, (geom.input_h, geom.input_w), self.model.cache_dir)
        self._start_int8(self._backend)
        log.info(
            "inference device: %s (%s, stride %d, input %dx%d for %dx%d frames)",
            self._backend.device,
            graph.path.name,
            graph.output_stride,
            geom.input_w,
            geom.input_h,
            frame_w,
            frame_h,
        )

    def _start_int8(self, backend: Backend) -> None:
        """On the CPU, int8 when configured: from the cache, else calibrated on this stream."""
        cfg, graph, cache_dir = self.model.config, self.model.graph, self.model.cache_dir
        wanted = cfg.precision == "int8" or (cfg.precision == "auto" and not gpu_names())
        if not wanted or backend.name != "tflite" or backend.precision != "float":
            return
        cached = cached_int8(graph, cache_dir)
        if cached is not None:
            self._backend = TFLiteBackend(graph, cfg.threads, cache_dir, model=cached, precision="int8")
        else:
            self._calibrator = Int8Calibrator(graph, cfg.threads, cache_dir)
            log.info("int8: calibrating on the first frames of this stream (float until then)")

    def preprocess(self, frame: np.ndarray, geom: Geometry) -> np.ndarray:
        """Resize, BGR->RGB and normalise into a reused float32 buffer [1, h, w, 3]."""
        small = self._resized = shrink(frame, (geom.input_w, geom.input_h), last=cv2.INTER_LINEAR)
        shape = (1, geom.input_h, geom.input_w, 3)
        if self._input is None or self._input.shape != shape:
            self._input = np.empty(shape, np.float32)
        out = self._input[0]
        out[...] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        if self.model.graph.architecture == "ResNet50":
            out -= np.asarray(IMAGENET_MEAN_RGB, np.float32)
        else:
            out *= np.float32(1.0 / 127.5)
            out -= np.float32(1.0)
        return self._input

    def infer(self, frame: np.ndarray) -> tuple[Geometry, tuple[np.ndarray, ...]]:
        """Model outputs (batch dimension dropped) for one frame."""
        _check_frame(frame)
        h, w = frame.shape[:2]
        self.prepare(h, w)
        backend = self.backend
        geom = self.geometry(h, w)
        t0 = time.perf_counter()
        image = self.preprocess(frame, geom)
        if self._calibrator is not None:
            self._calibrator.offer(image)
            backend = self._switch_to(self._calibrator.take()) or backend
        t1 = time.perf_counter()
        outputs = tuple(o[0] for o in backend.run(image))
        if self.config.flip_average:
            mirrored = backend.run(np.ascontiguousarray(image[:, :, ::-1]))
            seg = (outputs[_OUT["segments"]] + mirrored[_OUT["segments"]][0][:, ::-1]) * 0.5
            parts = (
                outputs[_OUT["part_heatmaps"]] + mirrored[_OUT["part_heatmaps"]][0][:, ::-1][..., _MIRROR_PARTS]
            ) * 0.5
            outputs = (seg, parts, *outputs[2:])
        t2 = time.perf_counter()
        self.timings.preprocess = (t1 - t0) * 1000
        self.timings.model = (t2 - t1) * 1000
        return geom, outputs

    @property
    def calibrating(self) -> bool:
        return self._calibrator is not None and not self._calibrator.done

    def settle(self, timeout: float = 60.0) -> None:
        """Wait for a running int8 calibration to finish and switch to its result (benchmarks)."""
        if self._calibrator is not None:
            self._calibrator.wait(timeout)
            self._switch_to(self._calibrator.take())

    def _selfie_scores(self, frame_h: int, frame_w: int) -> np.ndarray | None:
        """The selfie model's person scores for the frame infer() has just prepared, from its copy at
        the model input size (the frame is not shrunk twice); None with model.selfie off. Counted
        as model time."""
        if not self.model.selfie:
            return None
        assert self._resized is not None
        t0 = time.perf_counter()
        scores = self.model.selfie[selfie_kind_for(self.model.config.selfie, frame_h, frame_w)].scores(self._resized)
        self.timings.model += (time.perf_counter() - t0) * 1000
        return scores

    def _switch_to(self, backend: Backend | None) -> Backend | None:
        if backend is not None:
            self._backend = backend
            self._calibrator = None
            log.info("inference device: %s", backend.device)
        return backend

    def segment(self, frame: np.ndarray) -> Segmentation:
        """The frame's `Segmentation` (its full-size arrays computed when first asked for). A frame
        with a side under `UPSCALED_SHORT_SIDE` (a thumbnail, a 7x5 crop) is upscaled for the model
        and its result comes back at the frame's own size."""
        upscaled = upscaled_for_the_model(frame)
        if upscaled is not frame:
            return self.segment(upscaled).resized(frame.shape[:2])
        geom, outputs = self.infer(frame)
        selfie_scores = self._selfie_scores(geom.frame_h, geom.frame_w)
        t0 = time.perf_counter()
        seg = decode(outputs, geom, self.config, selfie_scores)
        self.timings.decode = (time.perf_counter() - t0) * 1000
        return seg


def _started_backend(graph: BodyPixGraph, model: ModelConfig, shape: tuple[int, int], cache_dir: Path) -> Backend:
    """The backend, run once at the frames' input size: a kernel this machine lacks fails here, as a
    ModelError naming the variant and the backend, not as a traceback inside the first frame."""
    name = model.backend
    try:
        backend = create_backend(graph, model, shape, cache_dir)
        name = backend.name
        backend.run(np.zeros((1, *shape, 3), np.float32))
    except ModelError:
        raise
    except Exception as exc:  # TensorFlow's OpError, LiteRT's RuntimeError, ...
        variant = f"{graph.architecture} stride {graph.output_stride} ({graph.path})"
        raise model_failure(variant, name, exc) from None
    return backend


def upscaled_for_the_model(frame: np.ndarray) -> np.ndarray:
    """``frame`` itself when both sides are at least `UPSCALED_SHORT_SIDE`, else a copy scaled up so
    they are: by one factor (the aspect ratio kept) unless that would stretch the long side past
    `_MAX_UPSCALED_SIDE`, which then keeps its length."""
    _check_frame(frame, min_side=1)
    h, w = frame.shape[:2]
    if min(h, w) >= UPSCALED_SHORT_SIDE:
        return frame
    factor = UPSCALED_SHORT_SIDE / min(h, w)
    size = [max(UPSCALED_SHORT_SIDE, min(round(side * factor), max(side, _MAX_UPSCALED_SIDE))) for side in (w, h)]
    return cv2.resize(frame, tuple(size), interpolation=cv2.INTER_CUBIC)


def _check_frame(frame: np.ndarray, min_side: int = MIN_SIDE) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        shape = getattr(frame, "shape", None)
        dtype = getattr(frame, "dtype", None)
        raise InputError(
            f"expected a BGR uint8 frame (H x W x 3), got shape {shape} dtype {dtype}",
            fix="convert grey or BGRA images to BGR first",
        )
    if frame.shape[0] < min_side or frame.shape[1] < min_side:
        raise InputError(
            f"frame {frame.shape[1]}x{frame.shape[0]} is too small for the model",
            fix=f"use at least {min_side}x{min_side} pixels, or Segmenter.segment (it upscales small frames)",
        )
