"""Effects: the mask refiner and the drawing effects the compositor runs on every frame (their
options are `vcamseg.config.effects` and `vcamseg.config.mask`)."""
