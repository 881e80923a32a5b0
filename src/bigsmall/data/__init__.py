"""Datasets: raw sources, preprocessing, cache and the torch Dataset."""
