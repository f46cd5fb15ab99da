"""goodsad-studio: a desktop studio for unsupervised visual anomaly detection on supermarket goods.

The core (everything outside ``goodsad_studio.gui``) never imports Qt or pyqtgraph.
"""

__version__ = "0.1.0"
