"""Shared parts the methods are composed of: devices, backbones and their weights, pre-processing and map assembly,
the feature extractor, training checkpoints, the training loop, pseudo-anomaly generators, and the numeric parts
(embeddings, memory banks, nearest-neighbour search, coreset, Gaussians, learning-rate schedules). What is inside a
saved model folder is ``methods/persistence.py``, beside ``api.py`` (the base class saves through it).

A component knows no method. Importing this package imports nothing else (no torch); each module is imported where
it is used.
"""
