"""The ``frame`` effect's controller (effects/framing.py) on synthetic crops: the dead zone holds it
still, the glide is bounded, it releases to the full frame when nobody is found, and the crop never
leaves the frame nor zooms past zoom_max."""

from __future__ import annotations

import itertools

import pytest

from vcamseg.config.effects import FrameConfig
from vcamseg.effects.framing import Crop, FramingController

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

W, H = 1280, 720


def _controller(**options: object) -> FramingController:
    return FramingController((W, H), FrameConfig(**options))


def _settle(controller: FramingController, wanted: Crop | None, frames: int = 400) -> Crop:
    for _ in range(frames):
        controller.step(wanted)
    return controller.crop


def _motion(a: Crop, b: Crop) -> float:
    return max(abs(a.cx - b.cx), abs(a.cy - b.cy), abs(a.width - b.width))


def test_it_settles_exactly_on_the_wanted_crop() -> None:
    controller = _controller()
    wanted = Crop(500.0, 300.0, 800.0)
    assert _settle(controller, wanted) == wanted
    before = controller.crop
    controller.step(wanted)
    assert controller.crop == before  # settled: no endless creeping


def test_the_dead_zone_holds_it_still_for_small_moves() -> None:
    controller = _controller(dead_zone=0.06)
    wanted = Crop(500.0, 300.0, 800.0)
    _settle(controller, wanted)
    held = controller.crop
    # Jitter within 6 % of the crop's size (48 px of 800 in x, 27 px of 450 in y, 48 px of width).
    for i in range(200):
        sign = 1 if i % 2 else -1
        controller.step(Crop(500.0 + sign * 40, 300.0 - sign * 20, 800.0 + sign * 40))
        assert controller.crop == held
    # A move past the zone is followed, all the way to the new position.
    moved = Crop(600.0, 300.0, 800.0)
    assert _settle(controller, moved) == moved


def test_the_glide_speed_is_bounded() -> None:
    controller = _controller(max_speed=0.01, smoothing=0.0)  # smoothing 0 would jump at once
    _settle(controller, Crop(300.0, 200.0, 640.0))
    limit = 0.01 * W
    previous = controller.crop
    motions = []
    for _ in range(300):
        controller.step(Crop(980.0, 500.0, 900.0))
        motions.append(_motion(previous, controller.crop))
        previous = controller.crop
    assert max(motions) <= limit + 1e-9
    assert motions[0] == pytest.approx(limit)  # it does move, as fast as allowed
    assert controller.crop == controller.clamp(Crop(980.0, 500.0, 900.0))


def test_smoothing_eases_in_and_out() -> None:
    controller = _controller(smoothing=0.8, max_speed=1.0)
    _settle(controller, Crop(400.0, 300.0, 800.0))
    steps = []
    previous = controller.crop
    for _ in range(30):
        controller.step(Crop(700.0, 300.0, 800.0))
        steps.append(controller.crop.cx - previous.cx)
        previous = controller.crop
    assert steps[0] == pytest.approx(0.2 * 300.0)  # (1 - smoothing) of the way
    assert all(a >= b for a, b in itertools.pairwise(steps))  # slowing down as it arrives


def test_it_holds_then_eases_back_to_the_full_frame_when_nobody_is_found() -> None:
    controller = _controller(release_after=30, max_speed=0.02)
    framed = _settle(controller, Crop(400.0, 250.0, 700.0))
    for _ in range(30):
        controller.step(None)
        assert controller.crop == framed  # a missed detection is not a departure
    previous = controller.crop
    for _ in range(400):
        controller.step(None)
        assert _motion(previous, controller.crop) <= 0.02 * W + 1e-9  # eased, not a jump
        previous = controller.crop
    assert controller.crop == controller.full
    # Someone comes back: framed again.
    assert _settle(controller, Crop(400.0, 250.0, 700.0)) == framed


def test_the_crop_stays_inside_the_frame_and_within_zoom_max() -> None:
    controller = _controller(zoom_max=2.0, max_speed=1.0, smoothing=0.0)
    for wanted in (Crop(0.0, 0.0, 100.0), Crop(W, H, 300.0), Crop(-500.0, 2000.0, 5000.0), Crop(640.0, 10.0, 640.0)):
        crop = _settle(controller, wanted, 50)
        x, y, w, h = crop.box(controller.aspect)
        assert w >= W / 2 - 1e-6 and w <= W + 1e-6
        assert h == pytest.approx(w * H / W)
        assert x >= -1e-6 and y >= -1e-6 and x + w <= W + 1e-6 and y + h <= H + 1e-6
