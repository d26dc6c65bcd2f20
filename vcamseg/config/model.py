"""`model:` — which BodyPix 2.0 variant to run and how (bodyPix.load's options)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from vcamseg.config.base import Section, UserPath

_ARCHITECTURES = {
    "mobilenetv1": "MobileNetV1",
    "mobilenet_v1": "MobileNetV1",
    "mobilenet": "MobileNetV1",
    "resnet50": "ResNet50",
    "resnet": "ResNet50",
    "resnet_50": "ResNet50",
}
STRIDES = {"MobileNetV1": (8, 16), "ResNet50": (16, 32)}
MULTIPLIERS = {"MobileNetV1": (0.5, 0.75, 1.0), "ResNet50": (1.0,)}


def _on_off(value: object) -> object:
    # YAML reads a bare `off` / `on` as a boolean.
    if isinstance(value, bool):
        return "auto" if value else "off"
    return value.strip().lower() if isinstance(value, str) else value


def _architecture(value: object) -> object:
    if isinstance(value, str):
        return _ARCHITECTURES.get(value.strip().lower().replace("-", "_"), value)
    return value


class ModelConfig(Section):
    """BodyPix model selection, as ``bodyPix.load({architecture, outputStride, multiplier, quantBytes})``."""

    architecture: Annotated[Literal["MobileNetV1", "ResNet50"], BeforeValidator(_architecture)] = Field(
        "MobileNetV1",
        json_schema_extra={"bodypix": "architecture"},
        description="Backbone: MobileNetV1 (fast) or ResNet50 (more accurate, 10-30x slower on a CPU).",
    )
    output_stride: Literal[8, 16, 32] = Field(
        16,
        json_schema_extra={"bodypix": "outputStride"},
        description="outputStride. MobileNetV1: 8 or 16; ResNet50: 16 or 32. Smaller = sharper, slower.",
    )
    multiplier: float | None = Field(
        None,
        json_schema_extra={"bodypix": "multiplier"},
        description="MobileNetV1 depth multiplier 0.50, 0.75 or 1.00 (default 0.50); ResNet50 takes 1.00 only.",
    )
    quant_bytes: Literal[1, 2, 4] = Field(
        4,
        json_schema_extra={"bodypix": "quantBytes"},
        description="quantBytes: 4 = float32 weights, 2 = uint16, 1 = uint8 (smaller download, less accurate).",
    )
    dir: UserPath | None = Field(
        None,
        description="Local model folder laid out like the official storage "
        "(bodypix/mobilenet/float/050/model-stride16.json, ...). Also env VCAMSEG_MODEL_DIR. Used before the cache.",
    )
    cache_dir: UserPath | None = Field(
        None, description="Where downloaded models and TFLite conversions live (default $XDG_CACHE_HOME/vcamseg)."
    )
    backend: Literal["auto", "tensorflow", "tflite"] = Field(
        "auto", description="auto: the GPU through TensorFlow when there is one, else TFLite (XNNPACK) on the CPU."
    )
    precision: Literal["auto", "float", "int8"] = Field(
        "auto",
        description="Inference arithmetic on the CPU (TFLite): int8 runs ~2x faster for about 1 point of mIoU; it is "
        "calibrated on the first seconds of the stream, checked against float, then cached. auto: int8 on the CPU, "
        "float on a GPU.",
    )
    selfie: Annotated[Literal["off", "auto", "general", "landscape"], BeforeValidator(_on_off)] = Field(
        "off",
        description="Also run MediaPipe's selfie segmentation model and blend its person scores into BodyPix's "
        "(segmentation.selfie_weight): clearly better outlines of people near the camera (person IoU on portraits "
        "0.85 -> 0.89) for ~4 ms CPU per segmented frame. auto: the landscape model (144x256) for frames at least as "
        "wide as tall, the square one (256x256) otherwise; off: BodyPix alone. Parts, poses and per-person masks "
        "stay BodyPix's.",
    )
    threads: int = Field(0, ge=0, le=256, description="CPU threads for inference; 0 = all cores.")
    download: bool = Field(
        True, description="Download the official files into the cache when they are not found locally."
    )

    @model_validator(mode="after")
    def _check_combination(self) -> ModelConfig:
        arch = self.architecture
        if self.output_stride not in STRIDES[arch]:
            allowed = " or ".join(str(s) for s in STRIDES[arch])
            raise ValueError(f"output_stride {self.output_stride} is not available for {arch}: choose {allowed}")
        if self.multiplier is not None:
            match = [m for m in MULTIPLIERS[arch] if abs(m - self.multiplier) < 1e-6]
            if not match:
                allowed = ", ".join(f"{m:.2f}" for m in MULTIPLIERS[arch])
                raise ValueError(f"multiplier {self.multiplier} is not available for {arch}: choose {allowed}")
        return self

    @property
    def effective_multiplier(self) -> float:
        if self.multiplier is not None:
            return float(self.multiplier)
        return 0.5 if self.architecture == "MobileNetV1" else 1.0

    @property
    def effective_dir(self) -> Path | None:
        if self.dir is not None:
            return self.dir.expanduser()
        env = os.environ.get("VCAMSEG_MODEL_DIR")
        return Path(env).expanduser() if env else None
