"""The daemon around the pipeline: live reload (file watch, SIGHUP, `vcamseg set`), the control
socket, systemd notifications and the user unit.

    daemon       lifecycle: start / stop order, signals, the main loop (watchdog, reporting)
      ├── config_file  ConfigFile: the YAML file + command line -> LoadedConfig (what the user wrote)
      ├── reload_loop  the one reload thread: file changes, SIGHUP, `vcamseg set` (--save), in order
      ├── reload       Reloader: the differences, applied by their `config.live` marks; holds what runs
      ├── handlers     the control requests: status, set, snapshot
      ├── control      Unix socket, JSON lines (client: the CLI side)
      ├── watch        the config file's folder (inotify through watchfiles), debounced
      └── notify       sd_notify READY / RELOADING / STATUS / WATCHDOG / STOPPING
    install      the systemd user unit and the v4l2loopback snippets
"""
