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


def test_a_batch_with_bad_inputs_writes_every_good_one(tmp_path: Path) -> None:
    """Unreadable inputs among readable ones: each bad one is one stderr line (file and reason), every
    readable one is written as if alone, and the exit status says something failed."""
    good = [DATA / r["image"] for r in rows("supervisely_person")[:3]]
    corrupt = tmp_path / "cut.jpg"
    corrupt.write_bytes(good[0].read_bytes()[:200])  # a real JPEG cut off after its header
    missing = tmp_path / "gone.png"
    batch = [good[0], corrupt, good[1], missing, good[2]]
    out = tmp_path / "o"
    result = _cli("segment", "--output-dir", str(out), *map(str, batch))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("vcamseg: skipped:")]
    assert len(skipped) == 2
    assert str(corrupt) in skipped[0] and "not a readable image" in skipped[0] and "fix:" in skipped[0]
    assert str(missing) in skipped[1] and "does not exist" in skipped[1]
    assert "2 of 5 input(s) could not be segmented" in result.stderr
    for path, row in zip(good, rows("supervisely_person")[:3], strict=True):
        assert str(path) in result.stdout
        mask = cv2.imread(str(out / f"{path.stem}-mask.png"), cv2.IMREAD_GRAYSCALE)
        truth = cv2.imread(str(DATA / row["mask"]), cv2.IMREAD_GRAYSCALE) > 127
        assert iou(mask == 255, truth) > 0.5
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p.stem}-{k}.png" for p in good for k in ("mask", "parts"))


def test_only_bad_inputs_load_no_model_and_fail(tmp_path: Path) -> None:
    bogus = tmp_path / "a.png"
    bogus.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = _cli("segment", "--output-dir", str(tmp_path / "o"), str(bogus), str(tmp_path / "b.png"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "2 of 2 input(s)" in result.stderr and "no model loaded" in result.stderr
    assert list((tmp_path / "o").iterdir()) == []


def test_two_inputs_writing_the_same_pngs_are_refused_before_anything_runs(tmp_path: Path) -> None:
    image = DATA / rows("supervisely_person")[0]["image"]
    (tmp_path / "b").mkdir()
    twin = tmp_path / "b" / f"{image.stem}.png"
    cv2.imwrite(str(twin), cv2.imread(str(image)))
    result = _cli("segment", "--output-dir", str(tmp_path / "o"), str(image), str(twin))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(image) in result.stderr and str(twin) in result.stderr and "fix:" in result.stderr
    assert not (tmp_path / "o").exists()


def test_images_below_the_model_minimum_are_segmented_at_their_size(tmp_path: Path) -> None:
    """A real picture shrunk to 15x11, and a 7x5 crop of it, are segmented, not refused: upscaled
    for the model, their PNGs at the input's size. At 15x11 the person is still found."""
    row = rows("supervisely_person")[0]
    full = cv2.imread(str(DATA / row["image"]))
    truth = cv2.imread(str(DATA / row["mask"]), cv2.IMREAD_GRAYSCALE)
    small = cv2.resize(full, (15, 11), interpolation=cv2.INTER_AREA)
    small_truth = cv2.resize(truth, (15, 11), interpolation=cv2.INTER_AREA) > 127
    cv2.imwrite(str(tmp_path / "small.png"), small)
    cv2.imwrite(str(tmp_path / "crop.png"), full[200:205, 250:257])
    out = tmp_path / "o"
    assert _run("--output-dir", str(out), str(tmp_path / "small.png"), str(tmp_path / "crop.png")) == 0
    for stem, shape in (("small", (11, 15)), ("crop", (5, 7))):
        mask = cv2.imread(str(out / f"{stem}-mask.png"), cv2.IMREAD_UNCHANGED)
        parts = cv2.imread(str(out / f"{stem}-parts.png"), cv2.IMREAD_UNCHANGED)
        assert mask.shape == parts.shape == shape and set(np.unique(mask)) <= {0, 255}
    found = cv2.imread(str(out / "small-mask.png"), cv2.IMREAD_GRAYSCALE) == 255
    assert iou(found, small_truth) > 0.2
