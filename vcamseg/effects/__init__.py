"""Effects: the mask refiner and the drawing effects the compositor runs on every frame.

The config package builds its ``effects:`` union from this package's registry, and the effect
configs build on the config package's ``Section``: importing the config package first lets
``import vcamseg.effects.<module>`` work on its own without hitting that cycle half-way.
"""

import vcamseg.config  # noqa: F401  (see above)
