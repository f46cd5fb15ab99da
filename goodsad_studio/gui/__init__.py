"""The Qt studio: a thin client of the core. Only this package imports Qt and pyqtgraph."""
