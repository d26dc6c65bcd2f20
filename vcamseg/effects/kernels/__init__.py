"""Array helpers shared by several effects: uint8 alpha blending in place (blend.py), reused
scratch buffers (buffers.py), fitting a picture to the frame (fitting.py) and the lookup tables
of parts and people (palettes.py). Arrays in, arrays out: no effect state, no threads, no I/O."""
