"""Frames in (sources), frames out (sinks), and who watches the virtual camera (loopback)."""
