"""Mask refinement shared by all effects: from the model's person scores to the soft matte the
effects composite with. `MaskRefiner` (refiner.py) runs the two steps: motion-aware temporal
smoothing (temporal.py) and image-guided edges, the fast guided filter (edges.py)."""

from vcamseg.effects.refine.refiner import MaskRefiner

__all__ = ["MaskRefiner"]
