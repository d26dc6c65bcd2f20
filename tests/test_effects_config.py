"""Effect and mask configuration: the defaults, a full effects list, and bad input rejected when
the config is loaded with a message that names the key and says what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vcamseg.body import RAINBOW
from vcamseg.config import Config, load_config
from vcamseg.config.effects import EFFECT_CONFIGS, BlurConfig, default_effects
from vcamseg.effects.compositor import Compositor
from vcamseg.errors import ConfigError


def _error(text: str, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(text=text, overrides=list(overrides))
    return str(info.value)


@pytest.fixture(scope="module")
def picture(data_dir: Path) -> Path:
    return next((data_dir / "images" / "voc2011_labelme").glob("*.jpg"))


def test_empty_config_blurs_the_background() -> None:
    config = load_config(text="")
    assert config.effects == [BlurConfig()] == default_effects()
    assert config.mask.edges == "guided_color"


def test_every_effect_in_one_list(picture: Path, data_dir: Path) -> None:
    video = data_dir / "videos" / "intel_asl_again.mp4"
    text = f"""
mask: {{edges: guided, temporal_smoothing: 0.5, erode_px: 2}}
effects:
  - {{type: mirror}}
  - {{type: replace, image: {picture}, fit: contain}}
  - {{type: replace, video: {video}}}
  - {{type: replace, color: chroma_green}}
  - {{type: blur, background_blur: 15, edge_blur: 2}}
  - {{type: parts, opacity: 0.7, palette: warm, parts: [left_face, right_face], per_person: true}}
  - {{type: pixelate, cell_size: 12}}
  - {{type: blur_parts}}
  - {{type: mask, mode: people}}
  - {{type: spotlight, choose: facing, switch_after: 4}}
  - {{type: frame, target: group, zoom_max: 3, smoothing: 0.8, headroom: 0.15}}
  - {{type: pose, min_score: 0.4, limb_color: white, per_person: true}}
  - {{type: none}}
"""
    config = load_config(text=text)
    assert [e.type for e in config.effects] == [
        "mirror",
        "replace",
        "replace",
        "replace",
        "blur",
        "parts",
        "pixelate",
        "blur_parts",
        "mask",
        "spotlight",
        "frame",
        "pose",
        "none",
    ]
    assert set(EFFECT_CONFIGS) == {e.type for e in config.effects}
    assert config.effects[1].image == picture
    assert config.effects[3].color == (0, 177, 64)
    assert config.effects[5].parts == ["left_face", "right_face"]
    assert (config.effects[9].choose, config.effects[10].target, config.effects[11].limb_color) == (
        "facing",
        "group",
        (255, 255, 255),
    )
    # What the config dumps validates again to the same config (vcamseg set / live reload).
    assert load_config(text="").model_validate(config.model_dump(mode="json")) == config


def test_custom_palette_of_24_colours() -> None:
    colours = ", ".join(f"[{r}, {g}, {b}]" for r, g, b in RAINBOW[::-1])
    config = load_config(text=f"effects: [{{type: parts, palette: [{colours}]}}]")
    assert config.effects[0].palette == RAINBOW[::-1]


def test_missing_background_image(tmp_path: Path) -> None:
    message = _error(f"effects:\n  - type: replace\n    image: {tmp_path / 'beach.jpg'}\n")
    assert "<config>:3: effects.0.image" in message
    assert "does not exist" in message and "beach.jpg" in message


def _build_error(text: str) -> str:
    """Validation never decodes media: an undecodable background is refused when the effects are
    built (at start, on a live reload, or by `vcamseg config check`)."""
    config = load_config(text=text)
    with pytest.raises(ConfigError) as caught:
        Compositor(config.mask, config.effects)
    return str(caught.value)


def test_unreadable_background_image(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG" * 10)
    message = _build_error(f"effects: [{{type: none}}, {{type: replace, image: {broken}}}]")
    assert "effects.1.image" in message and "cannot be read as an image" in message


def test_background_image_that_is_a_folder(tmp_path: Path) -> None:
    assert "is not a file" in _error(f"effects: [{{type: replace, image: {tmp_path}}}]")


def test_missing_or_undecodable_background_video(tmp_path: Path) -> None:
    message = _error(f"effects: [{{type: replace, video: {tmp_path / 'waves.mp4'}}}]")
    assert "effects.0.video" in message and "does not exist" in message
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    message = _build_error(f"effects: [{{type: replace, video: {broken}}}]")
    assert "effects.0.video" in message and "cannot be decoded" in message


def test_replace_needs_exactly_one_source(picture: Path) -> None:
    assert "got none" in _error("effects: [{type: replace}]")
    message = _error(f"effects: [{{type: replace, image: {picture}, color: [0, 0, 0]}}]")
    assert "effects.0" in message and "got image and color" in message and "exactly one" in message


@pytest.mark.parametrize("effect", ["parts", "blur_parts"])
def test_unknown_part_names_list_the_valid_ones(effect: str) -> None:
    message = _error(f"effects:\n  - type: {effect}\n    parts: [left_face, nose]\n")
    assert "<config>:3: effects.0.parts" in message
    assert "'nose'" in message and "valid parts are left_face, right_face" in message and "right_foot" in message


def test_bad_palettes() -> None:
    assert "palette has 2 colour(s): give exactly 24" in _error(
        "effects: [{type: parts, palette: [[1, 2, 3], [4, 5, 6]]}]"
    )
    out_of_range = ", ".join(["[10, 20, 30]"] * 23 + ["[10, 256, 30]"])
    message = _error(f"effects: [{{type: parts, palette: [{out_of_range}]}}]")
    assert "effects.0.palette" in message and "colour 23 (right_foot)" in message and "0-255" in message
    message = _error("effects: [{type: parts, palette: neon}]")
    assert "unknown palette 'neon'" in message and "rainbow, warm, spectral" in message


def test_bad_colours() -> None:
    assert "0-255" in _error("effects: [{type: replace, color: [0, 300, 0]}]")
    assert "chroma_green" in _error("effects: [{type: replace, color: purple}]")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("effects: [{type: parts, opacity: 1.5}]", "effects.0.opacity"),
        ("effects: [{type: blur, background_blur: 0}]", "effects.0.background_blur"),
        ("effects: [{type: pixelate, cell_size: 1}]", "effects.0.cell_size"),
        ("effects: [{type: blur_parts, grow_px: -1}]", "effects.0.grow_px"),
        ("effects: [{type: frame, zoom_max: 8}]", "effects.0.zoom_max"),
        ("effects: [{type: frame, target: face}]", "effects.0.target"),
        ("effects: [{type: frame, smoothing: 1}]", "effects.0.smoothing"),
        ("effects: [{type: spotlight, choose: loudest}]", "effects.0.choose"),
        ("effects: [{type: pose, min_score: 2}]", "effects.0.min_score"),
        ("mask: {softness: 2}", "mask.softness"),
        ("mask: {temporal_smoothing: 1.0}", "mask.temporal_smoothing"),
        ("mask: {edge_radius: 0}", "mask.edge_radius"),
        ("mask: {edges: bilateral}", "mask.edges"),
    ],
)
def test_out_of_range_numbers_name_the_key(text: str, key: str) -> None:
    assert f"{key}:" in _error(text)


def test_typos_and_unknown_effects() -> None:
    message = _error("effects:\n  - type: blur\n    backgroud_blur: 3\n")
    assert "effects.0.backgroud_blur" in message and "did you mean 'background_blur'" in message
    message = _error("effects: [{type: sparkle}]")
    assert "sparkle" in message and "'blur'" in message and "'parts'" in message


def test_bad_override_names_the_override() -> None:
    message = _error("", overrides=("effects.0.background_blur=500",))
    assert "--set effects.0.background_blur=500" in message


def test_relative_background_paths_resolve_against_the_config_folder(picture: Path) -> None:
    """The loader may pass the config file's folder as validation context; the stored path is then
    absolute, so the daemon's working directory does not matter."""
    raw = {"effects": [{"type": "replace", "image": picture.name}]}
    config = Config.model_validate(raw, context={"config_dir": str(picture.parent)})
    assert config.effects[0].image == picture
    with pytest.raises(ValidationError, match="does not exist"):
        Config.model_validate(raw)
