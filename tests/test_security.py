"""What the daemon exposes and trusts: no network listener (checked in /proc on a real daemon),
the control socket for this user only, config paths resolved without surprises, models fetched
over HTTPS only and verified by sha256, YAML that never runs code, and a hardened systemd unit."""

from __future__ import annotations

import configparser
import os
import re
import ssl
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_process import DaemonProcess, log_lines
from vcamseg.config import load_config
from vcamseg.config.edit import save_overrides
from vcamseg.effects.compositor import Compositor
from vcamseg.errors import ConfigError, DownloadError
from vcamseg.models import store, transport
from vcamseg.models.catalogue import OFFICIAL_BASE_URL, PINNED, all_variants
from vcamseg.service.client import socket_path_for
from vcamseg.service.config_file import ConfigFile
from vcamseg.service.install import DEFAULT_WRITABLE, render_unit

REPO = Path(__file__).resolve().parents[1]
RUN_CODE = "!!python/object/apply:os.system [touch {marker}]"


# --- the running daemon: no listener but its own socket -------------------------------------------


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """A daemon with the default socket path: $XDG_RUNTIME_DIR/vcamseg/control.sock."""
    folder = tmp_path_factory.mktemp("security")
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    with DaemonProcess(
        folder,
        "service:\n  reload_debounce_ms: 50\n",
        env={"XDG_RUNTIME_DIR": str(runtime)},
        socket_path=runtime / "vcamseg" / "control.sock",
    ) as running:
        running.wait_streaming()
        yield running


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if match := re.fullmatch(r"socket:\[(\d+)\]", target):
            inodes.add(int(match.group(1)))
    return inodes


def inet_sockets(table: str) -> list[tuple[str, int]]:
    """(state, inode) of each socket in /proc/net/<table> (tcp, tcp6, udp, udp6)."""
    rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
    return [(row.split()[3], int(row.split()[9])) for row in rows if row.strip()]


def test_the_daemon_has_no_network_socket_at_all(daemon: DaemonProcess) -> None:
    ours = socket_inodes(daemon.pid)
    assert ours, "the control socket at least"
    for table in ("tcp", "tcp6", "udp", "udp6"):
        found = [(state, inode) for state, inode in inet_sockets(table) if inode in ours]
        listening = [entry for entry in found if table.startswith("udp") or entry[0] == "0A"]  # 0A: TCP_LISTEN
        assert not listening, f"the daemon listens on {table}: {listening}"
        assert not found, f"the daemon has {table} sockets (models are local: it has no reason to): {found}"


def test_its_only_listening_socket_is_the_control_socket(daemon: DaemonProcess) -> None:
    ours = socket_inodes(daemon.pid)
    listening = []
    for row in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = row.split()
        flags, inode = int(fields[3], 16), int(fields[6])
        if inode in ours and flags & 0x10000:  # __SO_ACCEPTCON: a listening socket
            listening.append(fields[7] if len(fields) > 7 else "(unnamed)")
    assert listening == [str(daemon.socket)]


def test_the_control_socket_is_in_the_runtime_dir_for_this_user_only(daemon: DaemonProcess) -> None:
    folder = daemon.socket.parent
    assert folder == daemon.folder / "runtime" / "vcamseg", "its $XDG_RUNTIME_DIR/vcamseg (not told by --set)"
    info = daemon.socket.stat()
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()
    lock = folder / "control.sock.lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert daemon.status()["pid"] == daemon.pid


def test_a_python_tag_in_the_live_config_is_refused_and_never_run(daemon: DaemonProcess, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    refusals = len(log_lines(daemon, "is not allowed: a vcamseg config is plain YAML"))
    daemon.config.write_text(f"effects: {RUN_CODE.format(marker=marker)}\n")
    daemon.wait_for(
        lambda: len(log_lines(daemon, "is not allowed: a vcamseg config is plain YAML")) > refusals, 10, "the refusal"
    )
    assert "!!python/object/apply:os.system" in log_lines(daemon, "config not applied")[-1]
    assert not marker.exists()
    assert daemon.proc.poll() is None and daemon.status()["config"]["effects"][0]["type"] == "blur"


# --- YAML never runs code --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        RUN_CODE,
        "model: " + RUN_CODE,
        "effects:\n  - !!python/object/new:os.system [touch {marker}]",
        "model:\n  dir: !!python/name:os.system",
        "!!python/object:vcamseg.config.Config {{}}",
    ],
)
def test_python_tags_are_a_clear_config_error_and_never_run(document: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    config = tmp_path / "config.yaml"
    config.write_text(document.format(marker=marker) + "\n")
    with pytest.raises(
        ConfigError,
        match=rf"{re.escape(str(config))}:\d+: the YAML tag '!!python/\S+' is not "
        "allowed",
    ) as error:
        load_config(config)
    assert "fix: remove the tag" in str(error.value)
    # Every other reader of the file: the daemon's, the one `set --save` edits with, the client's.
    with pytest.raises(ConfigError):
        ConfigFile(config, required=True).load(config.read_text())
    if document.startswith("model: "):
        save_overrides(config, ["segmentation.threshold=0.6"])  # kept as text, not constructed
        assert "!!python/object/apply:os.system" in config.read_text()
    assert socket_path_for(config).name == "control.sock"
    assert not marker.exists()


# --- paths in the config ---------------------------------------------------------------------------


@pytest.fixture
def picture(data_dir: Path) -> bytes:
    return (data_dir / "images" / "cihp_multiperson" / "0000026.jpg").read_bytes()


def background_of(config: Path, *, daemon_view: bool = False) -> Path:
    """The first effect's background as `vcamseg config check` reads the file, or as the daemon does."""
    loaded = ConfigFile(config, required=True).load(config.read_text()).config if daemon_view else load_config(config)
    return loaded.effects[0].image  # type: ignore[union-attr]


def replace_with(image: str) -> str:
    return f"effects:\n  - type: replace\n    image: {image}\n"


def test_a_relative_background_is_found_next_to_the_config_not_in_the_working_dir(
    tmp_path: Path, picture: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, elsewhere = tmp_path / "config", tmp_path / "cwd"
    folder.mkdir()
    elsewhere.mkdir()
    (folder / "beach.jpg").write_bytes(picture)
    (elsewhere / "beach.jpg").write_text("not a picture")
    config = folder / "config.yaml"
    config.write_text(replace_with("beach.jpg"))
    monkeypatch.chdir(elsewhere)
    assert background_of(config) == background_of(config, daemon_view=True) == folder / "beach.jpg"


def test_a_symlinked_config_takes_its_relative_paths_from_the_real_file(tmp_path: Path, picture: bytes) -> None:
    dotfiles, xdg = tmp_path / "dotfiles", tmp_path / "xdg"
    dotfiles.mkdir()
    xdg.mkdir()
    (dotfiles / "beach.jpg").write_bytes(picture)
    (dotfiles / "vcamseg.yaml").write_text(replace_with("beach.jpg"))
    link = xdg / "config.yaml"
    link.symlink_to(dotfiles / "vcamseg.yaml")
    # `vcamseg config check` and the daemon agree.
    assert background_of(link) == background_of(link, daemon_view=True) == dotfiles / "beach.jpg"


def test_home_and_symlinked_backgrounds(tmp_path: Path, picture: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "Pictures").mkdir(parents=True)
    (home / "Pictures" / "beach.jpg").write_bytes(picture)
    monkeypatch.setenv("HOME", str(home))
    config = tmp_path / "config.yaml"
    config.write_text(replace_with("~/Pictures/beach.jpg"))
    assert background_of(config) == home / "Pictures" / "beach.jpg"

    (tmp_path / "current.jpg").symlink_to(home / "Pictures" / "beach.jpg")
    config.write_text(replace_with("current.jpg"))
    assert background_of(config) == tmp_path / "current.jpg", "a symlink is fine"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "dangling.jpg",
            r"background image '\S+/dangling.jpg' is a symbolic link to '\S+/moved.jpg', which does not "
            "exist",
        ),
        (
            "~nosuchuser-vcamseg/beach.jpg",
            r"background image '~nosuchuser-vcamseg/beach.jpg' starts with "
            r"'~nosuchuser-vcamseg', but no home folder is known for that user",
        ),
        ("pictures", r"background image '\S+/pictures' is not a file"),
        ("../../../../../../../no/such/beach.jpg", r"background image '\S+/no/such/beach.jpg' does not exist"),
    ],
)
def test_background_path_errors_say_what_is_wrong(image: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "moved.jpg")
    (tmp_path / "pictures").mkdir()
    (tmp_path / "notes.jpg").write_text("hello")
    config = tmp_path / "config.yaml"
    config.write_text(replace_with(image))
    with pytest.raises(ConfigError, match=rf"config.yaml:3: effects.0.image: {expected}"):
        load_config(config)


def test_a_background_that_is_not_an_image_is_refused_when_the_effect_is_built(tmp_path: Path) -> None:
    """Loading never decodes media (`vcamseg set` of any key would otherwise decode the background
    again); building the effect does, and says which entry and why."""
    (tmp_path / "notes.jpg").write_text("hello")
    config = tmp_path / "config.yaml"
    config.write_text(replace_with("notes.jpg"))
    loaded = load_config(config)
    with pytest.raises(
        ConfigError,
        match=r"effects.0.image: background image '\S+/notes.jpg' cannot be read as an "
        "image",
    ):
        Compositor(loaded.mask, loaded.effects)


@pytest.mark.parametrize(
    "key", ["model.dir", "model.cache_dir", "service.control_socket_path", "source.device", "output.device"]
)
def test_an_unknown_home_in_any_path_is_a_config_error_not_a_crash(key: str) -> None:
    with pytest.raises(ConfigError, match=rf"--set {key}=~nosuchuser-vcamseg/x: {key}: .*no home folder is known"):
        load_config(overrides=[f"{key}=~nosuchuser-vcamseg/x"])


# --- models: HTTPS from Google's storage, verified -------------------------------------------------


def test_every_model_comes_from_googles_storage_over_https() -> None:
    assert OFFICIAL_BASE_URL.startswith("https://storage.googleapis.com/")
    variants = all_variants()
    assert len(variants) == 24
    for variant in variants:
        assert variant.url.startswith(OFFICIAL_BASE_URL), variant.url
        assert all(not name.startswith(("/", "..")) for name in variant.expected_shard_relpaths)


def test_the_pinned_checksums_are_well_formed_and_match_the_official_files(models_dir: Path) -> None:
    sums = {}
    for line in (models_dir / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    checked = 0
    for relpath, (size, sha256) in PINNED.items():
        assert re.fullmatch(r"[0-9a-f]{64}", sha256) and size > 0, relpath
        assert relpath.startswith(("bodypix/", "mediapipe/")) and ".." not in relpath.split("/")
        if relpath in sums:
            assert sums[relpath] == sha256, f"{relpath}: pinned {sha256}, the official file has {sums[relpath]}"
            checked += 1
    assert checked >= 10, "the pins were checked against the real files"


@pytest.mark.parametrize(
    "url",
    [
        "http://storage.googleapis.com/tfjs-models/savedmodel/",  # the right host, in clear text
        "http://127.0.0.1.nip.io/",  # looks local, is not
        "http://localhost.example.com/",
        "storage.googleapis.com/tfjs-models/savedmodel/",  # no scheme
        "https:///tfjs-models/",  # no host
        "file:///etc/",
        "ftp://storage.googleapis.com/",
    ],
)
def test_model_base_urls_must_be_https(url: str) -> None:
    with pytest.raises(DownloadError, match="is not allowed"):
        store.effective_base_url(url)


@pytest.mark.parametrize(
    "url", ["https://mirror.example.com/bodypix/", "http://127.0.0.1:8000/", "http://[::1]/", "http://localhost/"]
)
def test_https_mirrors_and_this_machine_are_allowed(url: str) -> None:
    assert store.effective_base_url(url).startswith(url.rstrip("/"))


def test_downloads_verify_the_server_certificate() -> None:
    opener = transport.opener_for(OFFICIAL_BASE_URL + "bodypix/x.json")
    https = [h for h in opener.handlers if isinstance(h, urllib.request.HTTPSHandler)]
    assert https, "https is handled"
    for handler in https:
        context = handler._context or ssl.create_default_context()  # None: http.client's default, verifying
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert any(isinstance(h, transport.CheckedRedirects) for h in opener.handlers), "redirects are checked"


def test_a_redirect_to_clear_text_is_refused() -> None:
    handler = transport.CheckedRedirects()
    request = urllib.request.Request(OFFICIAL_BASE_URL + "bodypix/x.json")
    with pytest.raises(DownloadError, match=r"redirects to http://evil\.example\.com/x\.json, which is not allowed"):
        handler.redirect_request(request, None, 302, "Found", {}, "http://evil.example.com/x.json")


# --- the systemd unit ------------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser(strict=True, interpolation=None, delimiters=("=",), comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(text)
    return {section: dict(parser[section]) for section in parser.sections()}


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "read-only",
    "PrivateTmp": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectControlGroups": "yes",
    "ProtectHostname": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "SystemCallArchitectures": "native",
    "UMask": "0077",
    "RuntimeDirectory": "vcamseg",
    "RuntimeDirectoryMode": "0700",
}


def test_the_unit_is_hardened() -> None:
    service = unit_settings((REPO / "systemd" / "vcamseg.service").read_text())["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{key}={service.get(key)} (want {value})"
    # Writable: the config folder (`set --save`) and the cache (models), nothing else of $HOME.
    assert service["ReadWritePaths"].split() == [f"-{path}" for path in DEFAULT_WRITABLE]
    # The control socket (AF_UNIX) and outbound HTTPS for model downloads; no raw or netlink sockets.
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    # Options a user manager cannot apply (they drop bounding-set capabilities: 218/CAPABILITIES at
    # start under systemd 252, found in the VM by tests/vcam/test_systemd_service.py).
    for failing in ("ProtectKernelModules", "ProtectKernelLogs", "ProtectClock", "CapabilityBoundingSet"):
        assert failing not in service, f"{failing}= makes a user service fail to start"
    for granting in (
        "User",
        "AmbientCapabilities",
        "CapabilityBoundingSet",
        "SupplementaryGroups",
        "PermissionsStartOnly",
    ):
        assert granting not in service, f"{granting}= grants more than the user has"


def test_an_installed_unit_opens_exactly_this_users_config_and_cache_folders(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "conf"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    result = subprocess.run(
        [sys.executable, "-m", "vcamseg", "service", "install", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    service = unit_settings(result.stdout[result.stdout.index("# vcamseg: BodyPix") :])["Service"]
    assert service["ReadWritePaths"].split() == [
        f"-{tmp_path / 'conf' / 'vcamseg'}",
        f"-{tmp_path / 'cache' / 'vcamseg'}",
    ]
    for key, value in HARDENING.items():
        assert service.get(key) == value, key
    assert render_unit().count("ReadWritePaths=") == 1
