"""`vcamseg ui`: a settings page with a live preview, in the browser, for the running daemon.

A separate process (the daemon pays nothing while nobody looks, and nothing listens while it is
not running) that talks to the daemon over its control socket: `server` (HTTP, standard library),
`access` (token, Host and Origin checks), `api` (the requests, as `vcamseg status` / `set` make
them), and ``static/`` (the page: the form is generated in the browser from the config's JSON
Schema).
"""
