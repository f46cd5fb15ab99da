"""Goods-aware detection (numpy only): which training photos a photo is compared with, the goods id of a photo
that has none, and the per-goods calibration of scores."""
