"""Datasets in MVTec-AD layout: the index, image and mask IO, validation, the demo set, export and import."""
