"""`vcamseg doctor`: find what is wrong with a setup, each finding with the exact fix.

One module per area (environment, configfile, module + loopback, cameras, models, inference,
systemd, daemon) and the report types (report.py). Layering: between service and cli; it imports
config, models, io, service.client and service.install, never segmentation or the pipeline, and
nothing imports it but cli. Every check is cheap and safe: no capture is started (camera modes come
from ioctls), TensorFlow is not loaded (unless asked: ``gpu_probe``), nothing is written but a probe
file in the cache folder (removed at once), and socket and subprocess calls time out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vcamseg import paths
from vcamseg.doctor.cameras import check_cameras
from vcamseg.doctor.configfile import load_checked
from vcamseg.doctor.daemon import TIMEOUT_S, query_daemon
from vcamseg.doctor.environment import check_environment
from vcamseg.doctor.host import Host
from vcamseg.doctor.inference import check_inference
from vcamseg.doctor.loopback import check_loopback
from vcamseg.doctor.models import check_models
from vcamseg.doctor.report import AREAS, Finding, Report, Status
from vcamseg.doctor.systemd import check_systemd

__all__ = ["AREAS", "DoctorOptions", "Finding", "Host", "Report", "Status", "run_doctor"]


@dataclass(frozen=True)
class DoctorOptions:
    config_file: Path | None = None  # None: the default file when it exists
    overrides: tuple[str, ...] = ()  # --set KEY=VALUE, applied as `vcamseg run --set` would
    socket: Path | None = None  # None: the configured control socket
    socket_timeout_s: float = TIMEOUT_S  # how long the daemon may take to answer `status`
    unit: Path | None = None  # None: ~/.config/systemd/user/vcamseg.service
    lock: Path | None = None  # None: requirements.lock of the checkout, when running from one
    gpu_probe: bool = False  # also ask TensorFlow (in a subprocess) which GPUs it sees


def run_doctor(options: DoctorOptions | None = None, host: Host | None = None) -> Report:
    options = options or DoctorOptions()
    host = host or Host()
    default = paths.config_file()
    path = options.config_file or (default if default.is_file() else None)
    report = Report(config_file=str(path) if path else None)
    report.extend(check_environment(options.lock))
    config, config_finding = load_checked(path, default, options.overrides)
    report.extend([config_finding])
    # The daemon first: its pid tells our writes to the virtual camera from another program's.
    status, daemon_finding = query_daemon(config, options.socket, options.socket_timeout_s)
    report.extend(check_loopback(config, host, status))
    report.extend(check_cameras(config, host))
    report.extend(check_models(config.model))
    report.extend(check_inference(config.model, host, daemon=status, probe=options.gpu_probe))
    report.extend(check_systemd(host, options.unit))
    report.extend([daemon_finding])
    return report
