"""The segmenter: frame in, `Segmentation` out. Loads the model once; runs preprocessing, the
backend and the BodyPix decoding."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vcamseg import paths
from vcamseg.body import PART_NAMES
from vcamseg.config.model import ModelConfig
from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.errors import InputError, ModelError
from vcamseg.imaging import shrink
from vcamseg.models.files import selfie_kind_for, selfie_kinds_for
from vcamseg.models.selfie import fetch_selfie
from vcamseg.segmentation.backends import Backend, create_backend
from vcamseg.segmentation.backends.base import gpu_names
from vcamseg.segmentation.backends.tflite import TFLiteBackend
from vcamseg.segmentation.decode import instances, person
from vcamseg.segmentation.decode.poses import decode_poses
from vcamseg.segmentation.geometry import Geometry
from vcamseg.segmentation.graph import IMAGENET_MEAN_RGB, OUTPUTS, BodyPixGraph, load_graph, model_failure
from vcamseg.segmentation.quantize import Int8Calibrator, cached_int8
from vcamseg.segmentation.result import Pose, Segmentation
from vcamseg.segmentation.selfie import SelfieModel, blend

log = logging.getLogger(__name__)

_OUT = {name: i for i, name in enumerate(OUTPUTS)}
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
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.preprocess + self.model + self.decode


class Segmenter:
    """Runs one BodyPix variant on frames (BGR uint8, H x W x 3), and the MediaPipe selfie model
    beside it when ``model.selfie`` is on."""

    def __init__(
        self,
        model: ModelConfig,
        segmentation: SegmentationConfig,
        model_json: Path | None = None,
        *,
        backend: Backend | None = None,
        graph: BodyPixGraph | None = None,
        calibrator: Int8Calibrator | None = None,
        selfie_models: dict[str, SelfieModel] | None = None,
    ) -> None:
        self.model_config = model
        self.config = segmentation
        self.cache_dir = (model.cache_dir or paths.cache_dir()).expanduser()
        if graph is None:
            if model_json is None:
                from vcamseg.models.store import resolve_model

                model_json = resolve_model(model)
            path = model_json
            graph = load_graph(path, model.architecture, model.output_stride)
        self.graph = graph
        self.selfie_models = selfie_models if selfie_models is not None else load_selfie_models(model)
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
            self.config.internal_resolution, self.config.auto_size_px)
        return Segmenter(self.model_config, segmentation, graph=self.graph,
                         backend=self._backend if same_input else None,
                         calibrator=self._calibrator if same_input else None, selfie_models=self.selfie_models)

    @property
    def device(self) -> str:
        return self._backend.device if self._backend is not None else "not started"

    def geometry(self, frame_h: int, frame_w: int) -> Geometry:
        scale = self.config.scale_for(frame_h, frame_w)
        return Geometry.for_frame(frame_h, frame_w, scale, self.graph.output_stride)

    def prepare(self, frame_h: int, frame_w: int) -> Backend:
        """Pick/warm the backend for frames of this size (done by the first segment() otherwise)."""
        geom = self.geometry(frame_h, frame_w)
        if self._backend is None:
            self._backend = _started_backend(self.graph, self.model_config, (geom.input_h, geom.input_w),
                                             self.cache_dir)
            self._start_int8()
            log.info(
                "inference device: %s (%s, stride %d, input %dx%d for %dx%d frames)",
                self._backend.device,
                self.graph.path.name,
                self.graph.output_stride,
                geom.input_w,
                geom.input_h,
                frame_w,
                frame_h,
            )
        return self._backend

    def _start_int8(self) -> None:
        """On the CPU, int8 when configured: from the cache, else calibrated on this stream."""
        backend, cfg = self._backend, self.model_config
        wanted = cfg.precision == "int8" or (cfg.precision == "auto" and not gpu_names())
        if not wanted or getattr(backend, "name", "") != "tflite" or getattr(backend, "precision", "") != "float":
            return
        cached = cached_int8(self.graph, self.cache_dir)
        if cached is not None:
            self._backend = TFLiteBackend(self.graph, cfg.threads, self.cache_dir, model=cached, precision="int8")
        else:
            self._calibrator = Int8Calibrator(self.graph, cfg.threads, self.cache_dir)
            log.info("int8: calibrating on the first frames of this stream (float until then)")

    def preprocess(self, frame: np.ndarray, geom: Geometry) -> np.ndarray:
        """Resize, BGR->RGB and normalise into a reused float32 buffer [1, h, w, 3]."""
        small = self._resized = shrink(frame, (geom.input_w, geom.input_h), last=cv2.INTER_LINEAR)
        shape = (1, geom.input_h, geom.input_w, 3)
        if self._input is None or self._input.shape != shape:
            self._input = np.empty(shape, np.float32)
        out = self._input[0]
        out[...] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        if self.graph.architecture == "ResNet50":
            out -= np.asarray(IMAGENET_MEAN_RGB, np.float32)
        else:
            out *= np.float32(1.0 / 127.5)
            out -= np.float32(1.0)
        return self._input

    def infer(self, frame: np.ndarray) -> tuple[Geometry, tuple[np.ndarray, ...]]:
        """Model outputs (batch dimension dropped) for one frame."""
        _check_frame(frame)
        h, w = frame.shape[:2]
        backend = self.prepare(h, w)
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
        if not self.selfie_models:
            return None
        t0 = time.perf_counter()
        scores = self.selfie_models[selfie_kind_for(self.model_config.selfie, frame_h, frame_w)].scores(self._resized)
        self.timings.model += (time.perf_counter() - t0) * 1000
        return scores

    def _switch_to(self, backend: Backend | None) -> Backend | None:
        if backend is not None:
            self._backend = backend
            self._calibrator = None
            log.info("inference device: %s", backend.device)
        return backend

    def segment(self, frame: np.ndarray) -> Segmentation:
        geom, out = self.infer(frame)
        selfie_scores = self._selfie_scores(geom.frame_h, geom.frame_w)
        t0 = time.perf_counter()
        cfg = self.config
        seg_logits = out[_OUT["segments"]][:, :, 0]
        part_logits = out[_OUT["part_heatmaps"]]
        poses: list[Pose] = []
        people_fn = None
        if cfg.multi_person:
            decoded = decode_poses(
                out[_OUT["heatmaps"]],
                out[_OUT["short_offsets"]],
                out[_OUT["displacement_fwd"]],
                out[_OUT["displacement_bwd"]],
                geom.stride,
                cfg.max_detections,
                cfg.score_threshold,
                cfg.nms_radius,
            )
            kept = [kp for score, kp in decoded if score >= cfg.score_threshold]
            labels = instances.assign_people(
                out[_OUT["long_offsets"]], kept, geom, cfg.refine_steps, cfg.min_keypoint_score
            )
            for score, kp in [(s, k) for s, k in decoded if s >= cfg.score_threshold]:
                frame_kp = kp.copy()
                frame_kp[:, :2] = geom.input_points_to_frame(kp[:, :2])
                poses.append(Pose(score, frame_kp))

            def people_fn(mask: np.ndarray, labels: np.ndarray = labels) -> np.ndarray:
                return instances.people_map(labels, geom, mask)

        def small_scores() -> np.ndarray:
            scores = person.input_scores(seg_logits, geom)
            return scores if selfie_scores is None else blend(scores, selfie_scores, cfg.selfie_weight)

        def full_scores() -> np.ndarray:
            return geom.input_to_frame(unflipped.input_scores)

        seg = unflipped = Segmentation(
            shape=(geom.frame_h, geom.frame_w),
            threshold=cfg.threshold,
            compute_scores=full_scores,
            compute_input_scores=small_scores,
            compute_part_ids=lambda mask: person.part_ids(part_logits, geom, mask),
            compute_people=people_fn,
            poses=poses,
        )
        if cfg.flip_horizontal:
            seg = seg.flipped()
        self.timings.decode = (time.perf_counter() - t0) * 1000
        return seg


def load_selfie_models(model: ModelConfig) -> dict[str, SelfieModel]:
    """The selfie model(s) ``model.selfie`` may run ({} when off): both files for ``auto``, which
    picks one by the frame's shape (250 kB each, loaded in milliseconds)."""
    loaded = {}
    for kind in selfie_kinds_for(model.selfie):
        try:
            # One thread: the model is small enough that a second one costs more CPU (pool wake-ups)
            # than it saves (3.9 vs 5.4 ms CPU per streamed frame, 144x256).
            loaded[kind] = SelfieModel(fetch_selfie(kind, model).path, threads=1)
        except ModelError as exc:
            raise type(exc)(exc.message, fix=f"{exc.fix}; or set model.selfie: off to run BodyPix alone") from None
    return loaded


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


def _check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        shape = getattr(frame, "shape", None)
        dtype = getattr(frame, "dtype", None)
        raise InputError(
            f"expected a BGR uint8 frame (H x W x 3), got shape {shape} dtype {dtype}",
            fix="convert grey or BGRA images to BGR first",
        )
    if frame.shape[0] < 16 or frame.shape[1] < 16:
        raise InputError(
            f"frame {frame.shape[1]}x{frame.shape[0]} is too small to segment", fix="use at least 16x16 pixels"
        )
