"""Benchmark code that needs ../shared or is for development only (the oracle ceilings, synthetic
weights): not part of the installed package."""
