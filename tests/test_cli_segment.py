"""`vcamseg segment`: the output contract, and bad input as one clear error, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import SHARED, iou, rows
from vcamseg.cli.main import main

DATA = SHARED / "data"


def _run(*args: str) -> int:
    return main(["--log-level", "WARNING", "segment", *args])


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seg")
    images = [DATA / r["image"] for r in rows("cihp_multiperson")[:3] + rows("supervisely_person")[:2]]
    rc = main(["segment", "--set", "segmentation.multi_person=true", "--output-dir", str(out), *map(str, images)])
    assert rc == 0
    return out


def test_writes_mask_parts_and_people_per_input(outputs: Path) -> None:
    for row in rows("cihp_multiperson")[:3] + rows("supervisely_person")[:2]:
        image = cv2.imread(str(DATA / row["image"]))
        stem = Path(row["image"]).stem
        mask = cv2.imread(str(outputs / f"{stem}-mask.png"), cv2.IMREAD_UNCHANGED)
        parts = cv2.imread(str(outputs / f"{stem}-parts.png"), cv2.IMREAD_UNCHANGED)
        people = cv2.imread(str(outputs / f"{stem}-people.png"), cv2.IMREAD_UNCHANGED)
        for out in (mask, parts, people):
            assert out.dtype == np.uint8 and out.shape == image.shape[:2]
        assert set(np.unique(mask)) <= {0, 255}
        person = mask == 255
        assert np.all(parts[~person] == 255) and parts[person].max() <= 23
        assert np.all(people[~person] == 0)
        truth = cv2.imread(str(DATA / row["mask"]), cv2.IMREAD_GRAYSCALE) > 127
        assert iou(person, truth) > 0.5
    multi = cv2.imread(str(outputs / "0000007-people.png"), cv2.IMREAD_UNCHANGED)
    assert multi.max() >= 2


def test_single_person_mode_writes_no_people_map(tmp_path: Path) -> None:
    image = DATA / rows("supervisely_person")[0]["image"]
    assert _run("--output-dir", str(tmp_path), str(image)) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{image.stem}-mask.png", f"{image.stem}-parts.png"]


def test_set_changes_the_model(tmp_path: Path) -> None:
    image = DATA / rows("supervisely_person")[0]["image"]
    assert (
        _run(
            "--set",
            "model.multiplier=0.75",
            "--set",
            "model.quant_bytes=2",
            "--set",
            "segmentation.threshold=0.6",
            "--output-dir",
            str(tmp_path),
            str(image),
        )
        == 0
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vcamseg", *args], capture_output=True, text=True, timeout=300)


def test_unreadable_input_is_one_clear_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not an image")
    result = _cli("segment", "--output-dir", str(tmp_path / "o"), str(bogus))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(bogus) in result.stderr and "not a readable image" in result.stderr and "fix:" in result.stderr
    missing = _cli("segment", "--output-dir", str(tmp_path / "o"), str(tmp_path / "nope.png"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_corrupted_model_is_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "bodypix" / "mobilenet" / "float" / "050"
    shutil.copytree(SHARED / "models" / "bodypix" / "mobilenet" / "float" / "050", folder)
    shard = folder / "group1-shard1of1.bin"
    data = bytearray(shard.read_bytes())
    data[100:110] = b"\xff" * 10
    shard.write_bytes(bytes(data))
    image = DATA / rows("supervisely_person")[0]["image"]
    result = _cli(
        "segment", "--set", f"model.dir={tmp_path / 'models'}", "--output-dir", str(tmp_path / "o"), str(image)
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(shard) in result.stderr and "fix:" in result.stderr


def test_bad_config_value_names_the_key(tmp_path: Path) -> None:
    image = DATA / rows("supervisely_person")[0]["image"]
    result = _cli("segment", "--set", "model.output_stride=32", "--output-dir", str(tmp_path), str(image))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "model" in result.stderr and "output_stride 32" in result.stderr
