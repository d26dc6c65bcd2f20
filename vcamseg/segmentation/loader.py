"""Loading a model: from the files of a ``model:`` config (`ModelFiles`, found and verified by
`vcamseg.models.resolve.resolve_model_files`) to the TensorFlow graph and the selfie
interpreters a `Segmenter` runs (`LoadedModel`).

This step only reads files: it never looks anything up in the cache and never downloads (that is
the models layer's job, done before). Loading takes seconds (the graph is built and run once to
check its stride); a `LoadedModel` is shared by every segmenter made from it
(`Segmenter.reconfigured`), so a live change of the segmentation options reloads nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vcamseg import paths
from vcamseg.config.model import ModelConfig
from vcamseg.models.files import ModelFiles, SelfieKind, selfie_kinds_for
from vcamseg.segmentation.backends.base import gpu_names
from vcamseg.segmentation.backends.tflite import cached, measured_stride
from vcamseg.segmentation.graph import BodyPixGraph, load_graph
from vcamseg.segmentation.selfie import SelfieModel

log = logging.getLogger(__name__)

# One thread per selfie model: it is small enough that a second one costs more CPU (pool
# wake-ups) than it saves (3.9 vs 5.4 ms CPU per streamed frame, 144x256).
SELFIE_THREADS = 1


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A ``model:`` config's graph and selfie models, ready to run.

    ``selfie`` holds the selfie model(s) ``config.selfie`` may run (empty when off; both for
    ``auto``, which picks one by the frame's shape). ``cache_dir`` is where conversions of the
    graph (TFLite, int8) are cached. Compared by identity: equal configs loaded twice are two
    loads."""

    config: ModelConfig
    graph: BodyPixGraph
    selfie: Mapping[SelfieKind, SelfieModel]
    cache_dir: Path


def load_model(model: ModelConfig, files: ModelFiles) -> LoadedModel:
    """Build ``model``'s graph from ``files`` and open its selfie models. Raises ModelError naming
    the file and the fix when a file cannot be used (not a BodyPix graph, the wrong stride, not
    a TFLite model)."""
    graph = load_graph(files.bodypix_json, model.architecture, model.output_stride, digest=files.digest)
    _check_stride(graph, model, cache_dir_for(model))
    selfie = {}
    for kind in selfie_kinds_for(model.selfie):
        if kind not in files.selfie:
            raise ValueError(
                f"the model files have no {kind} selfie model although model.selfie is "
                f"{model.selfie}: resolve them with the same model config"
            )
        selfie[kind] = SelfieModel(files.selfie[kind], threads=SELFIE_THREADS)
    return LoadedModel(model, graph, selfie, cache_dir_for(model))


def cache_dir_for(model: ModelConfig) -> Path:
    """Where conversions of ``model``'s graph are cached: ``model.cache_dir``, else the user's."""
    return (model.cache_dir or paths.cache_dir()).expanduser()


def _check_stride(graph: BodyPixGraph, model: ModelConfig, cache_dir: Path) -> None:
    """The graph's real stride against the config's, now (a wrong file fails at load, not in the
    first frame): on its cached TFLite conversion when the CPU path will run that (TensorFlow is
    then never imported), else on the TensorFlow graph, which is built for it."""
    conversion = None
    if model.backend != "tensorflow" and not gpu_names():
        conversion = cached(graph, cache_dir) or cached(graph, cache_dir, "int8")
    if conversion is None:
        graph.function  # noqa: B018  (building it measures and checks the stride)
        return
    try:
        stride = measured_stride(conversion)
    except (RuntimeError, ValueError) as exc:  # a damaged cache file: convert again from the graph
        log.warning("cached conversion %s unusable (%s); checking the stride on the graph", conversion.name, exc)
        graph.function  # noqa: B018
        return
    graph.check_stride(stride)
