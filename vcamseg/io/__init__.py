"""Frames in (`sources`), frames out (`sinks`), and the virtual camera's kernel side (`loopback`:
devices, readers); `media` holds what they share (image suffixes, THE image loader, FOURCC text),
`v4l2` and `inotify` the kernel interfaces through ctypes.

io imports only the base layer (errors, paths, atomic, imaging, logs, body) and `vcamseg.config`.
"""
