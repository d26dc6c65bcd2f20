"""What each model file must be, and whether a file on disk is it.

Every file is checked by size (shards: from the manifest; tfjs splits at 4 MiB) and by its content
where known: the pinned official sha256s in :mod:`vcamseg.models.catalogue` or git blob ids in
:mod:`vcamseg.models.official_blobs`, else (cache only) the sha256 recorded in
``<cache>/models/checksums.json`` when the file was first downloaded (`ChecksumRecord`: trust on
first use; only the ResNet50 stride-32 model.json files are left to it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from vcamseg.atomic import replace_file
from vcamseg.errors import ModelError
from vcamseg.models.catalogue import PINNED, SHARD_BYTES, Variant
from vcamseg.models.official_blobs import PINNED_GIT_BLOBS
from vcamseg.models.remedies import write_error
from vcamseg.models.tfjs import TfjsGraphModel, read_model_json

log = logging.getLogger(__name__)

CHECKSUMS_FILE = "checksums.json"
_CHUNK = 1024 * 1024
# Shard names in a manifest become file names in our folders: nothing that could climb out.
_PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Expected:
    """What a file must be: size, and sha256 or git blob id where known, and where the checksum
    comes from."""

    relpath: str
    size: int | None
    sha256: str | None
    sha_source: str = ""  # "pinned" or "recorded at first download in <record>"
    git_blob: str | None = None  # pinned git blob id (vcamseg.models.official_blobs)

    @property
    def content_known(self) -> bool:
        """Whether the bytes are pinned or recorded (False: trust on first use)."""
        return self.sha256 is not None or self.git_blob is not None


class ChecksumRecord:
    """``<cache>/models/checksums.json``: {relpath: {size, sha256}} of downloaded files that have no
    pinned checksum (trust on first use: later downloads and cache hits must match)."""

    def __init__(self, root: Path) -> None:
        self.path = root / CHECKSUMS_FILE
        self.entries: dict[str, dict[str, object]] = {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(doc, dict) and isinstance(doc.get("files"), dict):
                self.entries = doc["files"]
            else:
                raise ValueError("no 'files' mapping")
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning(
                "ignoring unreadable checksum record %s (%s): cached files without a pinned "
                "checksum will be re-trusted as they are",
                self.path,
                exc,
            )

    def get(self, relpath: str) -> tuple[int, str] | None:
        """(size, sha256) recorded for ``relpath``, or None."""
        entry = self.entries.get(relpath)
        if isinstance(entry, dict) and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str):
            return entry["size"], entry["sha256"]  # type: ignore[return-value]
        return None

    def put(self, relpath: str, size: int, sha256: str) -> None:
        """Record ``relpath`` and save the record at once (atomically). Raises DownloadError when
        the cache cannot be written."""
        self.entries[relpath] = {"size": size, "sha256": sha256}
        text = json.dumps({"version": 1, "files": self.entries}, indent=1, sort_keys=True) + "\n"
        try:
            replace_file(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise write_error(exc, self.path.parent) from None


def expected_file(relpath: str, *, size: int | None = None, record: ChecksumRecord | None = None) -> Expected:
    """What ``relpath`` must be: its pinned size and sha256, else what ``record`` holds (with
    ``size`` from the manifest when given), else just ``size``."""
    if relpath in PINNED:
        pinned_size, sha = PINNED[relpath]
        return Expected(relpath, pinned_size, sha, "pinned")
    if relpath in PINNED_GIT_BLOBS:
        pinned_size, blob = PINNED_GIT_BLOBS[relpath]
        return Expected(relpath, pinned_size, None, "pinned", git_blob=blob)
    if record is not None and (entry := record.get(relpath)) is not None:
        return Expected(
            relpath, entry[0] if size is None else size, entry[1], f"recorded at first download in {record.path}"
        )
    return Expected(relpath, size, None)


def expected_json(variant: Variant, record: ChecksumRecord | None) -> Expected:
    """What ``variant``'s model.json must be."""
    return expected_file(variant.relpath, record=record)


def expected_shards(variant: Variant, model: TfjsGraphModel, record: ChecksumRecord | None) -> list[Expected]:
    """Every shard the manifest lists, with its size: all but the last of a group are SHARD_BYTES.
    Raises ModelError when the manifest cannot be an official one (sizes, file names)."""
    out: dict[str, Expected] = {}
    for group in model.groups:
        total = sum(w.nbytes for w in group.weights)
        count = len(group.paths)
        last = total - SHARD_BYTES * (count - 1)
        if count == 0 or not 0 < last <= SHARD_BYTES:
            raise ModelError(
                f"{model.path}: its manifest lists {count} shard(s) for {total} weight bytes, which is not "
                f"how tfjs splits weights ({SHARD_BYTES}-byte shards): the file is damaged or not an official model",
                fix=f"replace it with the official {variant.url}",
            )
        for index, name in enumerate(group.paths):
            if not _PLAIN_FILE_NAME.fullmatch(name):
                raise ModelError(
                    f"{model.path}: weight file {name!r} is not a plain file name next to the model.json",
                    fix=f"replace it with the official {variant.url}",
                )
            relpath = f"{variant.folder}/{name}"
            size = SHARD_BYTES if index < count - 1 else last
            out.setdefault(relpath, expected_file(relpath, size=size, record=record))
    return list(out.values())


def file_problem(path: Path, expected: Expected) -> str | None:
    """What is wrong with ``path`` (phrased to follow its name), or None when it is as expected."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not path.is_file():
        return "is not a regular file"
    if expected.size is not None and st.st_size != expected.size:
        return f"has {st.st_size} bytes but should have {expected.size} (truncated or from another model)"
    if expected.sha256 is not None:
        try:
            actual = sha256_of(path)
        except OSError as exc:
            return f"cannot be read ({exc.strerror})"
        if actual != expected.sha256:
            return f"is corrupted: its sha256 is {actual} but should be {expected.sha256} ({expected.sha_source})"
    if expected.git_blob is not None:
        try:
            blob = git_blob_of(path)
        except OSError as exc:
            return f"cannot be read ({exc.strerror})"
        if blob != expected.git_blob:
            return git_blob_mismatch(blob, expected)
    return None


def git_blob_mismatch(actual: str, expected: Expected) -> str:
    """The problem of a file whose git blob id is not the pinned one (phrased to follow its name)."""
    return (
        f"is corrupted or not the official file: its git blob id is {actual} but should be "
        f"{expected.git_blob} ({expected.sha_source}; `git hash-object FILE` prints it)"
    )


def model_json_problem(path: Path) -> str | None:
    """What makes ``path`` unusable as a model.json beyond its size and checksum (it must parse)."""
    try:
        read_model_json(path)
    except ModelError as exc:
        return f"is not a usable model.json ({exc.message})"
    return None


def git_blob_of(path: Path) -> str:
    """``path``'s git blob id: ``sha1(b"blob <size>\\0" + data)``, what ``git hash-object`` prints."""
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def quick_total(variant: Variant, root: Path, record: ChecksumRecord | None) -> int | None:
    """Total bytes of ``variant`` under ``root`` when every file is there with the right size (no sha256)."""
    model_json = root / variant.relpath
    try:
        expected = expected_json(variant, record)
        if not model_json.is_file() or (expected.size not in (None, model_json.stat().st_size)):
            return None
        total = model_json.stat().st_size
        for shard_expected in expected_shards(variant, read_model_json(model_json), record):
            shard = root / shard_expected.relpath
            if not shard.is_file() or shard.stat().st_size != shard_expected.size:
                return None
            total += shard_expected.size
    except (ModelError, OSError):
        return None
    return total
