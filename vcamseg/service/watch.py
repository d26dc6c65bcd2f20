"""Watch the config file for changes: its folder, not the file, so editors that save by writing a
new file and renaming it over the old one (vim, VS Code, sed -i) are seen too; a symlinked file
(dotfiles) is watched at its target as well. Bursts of events are debounced into one callback."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)

RETRY_S = 2.0  # a missing folder is looked for again this often


class ConfigWatcher:
    """Calls ``on_change()`` (from its own thread) once the file was changed, replaced, created or
    deleted and then left alone for ``debounce_ms``."""

    def __init__(self, path: Path, on_change: Callable[[], None], debounce_ms: int) -> None:
        self.path = path.absolute()
        self._on_change = on_change
        self._quiet_ms = max(50, debounce_ms)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vcamseg-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()  # the watch loop notices within one quiet interval; the thread is a daemon

    def _targets(self) -> set[Path]:
        """The file as named and, behind symlinks, as stored."""
        return {self.path, self.path.resolve()}

    def _run(self) -> None:
        while not self._stop.is_set():
            targets = self._targets()
            folders = sorted({t.parent for t in targets if t.parent.is_dir()})
            if not folders:
                self._stop.wait(RETRY_S)
                continue

            def relevant(_change: watchfiles.Change, name: str, targets: set[Path] = targets) -> bool:
                return Path(name) in targets

            try:
                for _changes in watchfiles.watch(
                    *folders,
                    watch_filter=relevant,
                    recursive=False,
                    step=self._quiet_ms,
                    debounce=max(2000, 4 * self._quiet_ms),
                    stop_event=self._stop,
                    rust_timeout=1000,
                    raise_interrupt=False,
                ):
                    self._on_change()
                    if self._targets() != targets:
                        break  # the symlink now points elsewhere: watch the new target's folder
            except (OSError, RuntimeError) as exc:  # the folder went away, inotify limits, ...
                log.warning("watching %s stopped (%s); retrying in %g s", self.path, exc, RETRY_S)
                self._stop.wait(RETRY_S)
