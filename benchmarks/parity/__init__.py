"""Parity of the trained methods with their authors' PyTorch code: one module per method (``rd4ad.py``, ...), each
with ``MARKERS`` (files that identify the authors' repository) and ``compare(reference: Path) -> list[Check]``.
Run through ``benchmarks/parity_reference.py --reference PATH``; see common.py for the shared pieces."""
