"""The daemon around the pipeline: live reload (file watch, SIGHUP, `vcamseg set`), the control
socket, systemd notifications and the user unit.

    daemon ── owns the pipeline, signals, the main loop (watchdog, status)
      ├── reload    config changes -> per-section apply (effects within a frame, model in the background)
      ├── watch     the config file's folder (inotify through watchfiles), debounced
      ├── control   Unix socket, JSON lines: status, set, snapshot  (client: the CLI side)
      └── notify    sd_notify READY / RELOADING / STATUS / WATCHDOG / STOPPING
    install ── the systemd user unit and the v4l2loopback snippets
"""
