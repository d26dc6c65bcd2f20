"""vcamseg: BodyPix 2.0 person/part segmentation as a Linux virtual camera."""

__version__ = "0.1.0"
