"""Benchmarks shipped with the package (``vcamseg bench``); the scripts in benchmarks/ call these."""
