"""Effects: the mask refiner and the drawing effects the compositor runs on every frame (their
options are `vcamseg.config.effects` and `vcamseg.config.mask`).

* base.py — the `Effect` interface (its duties), `EffectBase`, `WarnOnce`;
* registry.py — effect type name -> implementation; compositor.py — refine, then the effects in
  order, and the staged live swap;
* refine/ — the mask refiner (refiner.py) and its two steps (temporal.py, edges.py);
* one module per effect family: blur, blur_parts, mask_view, part_colors, pixelate, replace
  (with video_source.py, its looping background video), simple (mirror, none), and the effects
  that know who is who: spotlight, frame (with framing.py, its crop controller), pose;
* kernels/ — array helpers several effects share (blending, scratch buffers, fitting, lookup tables).
"""
