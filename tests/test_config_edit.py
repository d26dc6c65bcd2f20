"""`vcamseg set --save` edits the user's file: only the keys set change, comments and layout stay."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vcamseg.config import load_config
from vcamseg.config.edit import save_overrides

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

USER_FILE = """\
# my camera setup
model:
  multiplier: 0.75   # faster on the laptop

effects:
  - type: replace   # the office wall
    color: [0, 177, 64]
  - {type: blur, background_blur: 3}
"""


def test_only_the_keys_set_change(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(USER_FILE)
    text = save_overrides(
        path,
        [
            "effects.0.color=[0, 0, 255]",
            "effects.1.background_blur=9",
            "segmentation.threshold=0.6",
            "output.idle.grace_s=3",
        ],
    )
    assert text == path.read_text()
    edited = USER_FILE.replace("[0, 177, 64]", "[0, 0, 255]").replace("background_blur: 3", "background_blur: 9")
    assert text == edited + "segmentation:\n  threshold: 0.6\noutput:\n  idle:\n    grace_s: 3\n"
    cfg = load_config(path)
    assert cfg.effects[0].color == (0, 0, 255) and cfg.segmentation.threshold == 0.6  # type: ignore[union-attr]


def test_a_missing_file_is_created_and_a_comment_only_file_keeps_its_comments(tmp_path: Path) -> None:
    created = tmp_path / "sub" / "config.yaml"
    save_overrides(created, ["segmentation.threshold=0.7"])
    assert created.read_text() == "segmentation:\n  threshold: 0.7\n"
    commented = tmp_path / "commented.yaml"
    commented.write_text("# nothing set yet")
    save_overrides(commented, ["mask.edges=none"])
    assert commented.read_text() == "# nothing set yet\nmask:\n  edges: none\n"


def test_the_example_config_keeps_every_line_but_the_one_set(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "config" / "vcamseg.yaml"
    path = tmp_path / "config.yaml"
    path.write_text(example.read_text())
    text = save_overrides(path, ["source.fps=25"])
    before, after = example.read_text().splitlines(), text.splitlines()
    assert len(before) == len(after)
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [("  fps: 30.0", "  fps: 25")]


def test_a_symlinked_file_is_written_through_the_link_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "vcamseg.yaml"
    target.parent.mkdir()
    target.write_text("model:\n  threads: 2\n")
    target.chmod(0o600)
    link = tmp_path / "config.yaml"
    link.symlink_to(target)
    save_overrides(link, ["model.threads=1"])
    assert link.is_symlink() and target.read_text() == "model:\n  threads: 1\n"
    assert os.stat(target).st_mode & 0o777 == 0o600
