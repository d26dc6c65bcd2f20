"""Which form of a dilated BodyPix graph converts to the faster TFLite model.

TensorFlow runs the graph with its dilated convolutions rewritten as SpaceToBatchND -> conv ->
BatchToSpaceND (vcamseg/segmentation/dilation.py: TensorFlow's own CPU kernels have no dilated
depthwise convolution). The TFLite converter can take either that rewritten graph or the graph as
published, whose dilated kernels it maps onto TFLite's native dilated convolutions. This times both
conversions, float and int8 (calibrated on real frames), interleaved run by run, at the model input
``internal_resolution: auto`` gives a 1280x720 frame (481x257 at stride 16, 481x265 at stride 8).

python benchmarks/dilated_tflite.py [--runs 40] [--threads 2] [VARIANT_KEY ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2
import numpy as np
from daemon_harness import DEFAULT_VIDEO, SHARED

from vcamseg.config import Config
from vcamseg.models.catalogue import parse_variant_key
from vcamseg.models.files import model_digest
from vcamseg.segmentation.backends.tflite import TFLiteBackend, convert_int8
from vcamseg.segmentation.geometry import Geometry
from vcamseg.segmentation.graph import BodyPixGraph, load_graph

DEFAULT_VARIANTS = ("mobilenet-050-float-s8", "mobilenet-075-quant2-s8", "mobilenet-100-quant1-s16")


def _calibration(video: Path, shape: tuple[int, int], count: int = 8) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        for _ in range(9):  # spread over the clip
            capture.grab()
        small = cv2.resize(frame, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        frames.append((cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0)[None])
    capture.release()
    return frames


def _backends(
    graph: BodyPixGraph, function: object, threads: int, calibration: list[np.ndarray], cache: Path
) -> tuple[TFLiteBackend, TFLiteBackend]:
    """Float and int8 TFLite models converted from ``function`` (the rewritten or the published graph)."""
    import tensorflow as tf

    float_model = tf.lite.TFLiteConverter.from_concrete_functions([function]).convert()
    return (
        TFLiteBackend(graph, threads, cache, model=float_model),
        TFLiteBackend(graph, threads, cache, model=convert_int8(graph, calibration, function), precision="int8"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", default=list(DEFAULT_VARIANTS))
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    args = parser.parse_args(argv)
    cfg = Config()
    print(f"median ms per inference, {args.runs} interleaved runs, {args.threads} threads, {os.cpu_count()} CPUs")
    print(
        f"{'variant':28} {'input':>8} {'rewritten float':>16} {'published float':>16} "
        f"{'rewritten int8':>15} {'published int8':>15}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.variants:
            variant = parse_variant_key(key)
            model_json = args.models / variant.relpath
            graph = load_graph(model_json, variant.architecture, variant.output_stride, digest=model_digest(model_json))
            geom = Geometry.for_frame(720, 1280, cfg.segmentation.scale_for(720, 1280), graph.output_stride)
            shape = (geom.input_h, geom.input_w)
            calibration = _calibration(args.video, shape)
            rewritten = _backends(graph, graph.function, args.threads, calibration, Path(tmp))
            published = _backends(graph, graph.for_conversion(), args.threads, calibration, Path(tmp))
            candidates = [rewritten[0], published[0], rewritten[1], published[1]]
            image = calibration[0]
            for backend in candidates:
                for _ in range(3):
                    backend.run(image)
            times: list[list[float]] = [[] for _ in candidates]
            for _ in range(args.runs):
                for i, backend in enumerate(candidates):
                    start = time.perf_counter()
                    backend.run(image)
                    times[i].append((time.perf_counter() - start) * 1000.0)
            medians = [float(np.median(t)) for t in times]
            print(
                f"{key:28} {shape[1]:>4}x{shape[0]:<3} {medians[0]:>16.2f} {medians[1]:>16.2f} "
                f"{medians[2]:>15.2f} {medians[3]:>15.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
