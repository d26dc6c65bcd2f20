"""Segmentation: the BodyPix graph, inference backends, decoding, and the `Segmentation` result."""
