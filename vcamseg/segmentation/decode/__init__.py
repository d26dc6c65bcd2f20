"""BodyPix decoding: person scores and part map (person.py), poses (poses.py), and the split of
the person mask into people (instances.py)."""
