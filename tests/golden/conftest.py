"""The golden check uses the method tests' offline mobilenet_v2 weights fixture."""

from methods.conftest import mobilenet_weights  # noqa: F401  (a fixture, found by name)
