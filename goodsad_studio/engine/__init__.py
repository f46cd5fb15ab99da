"""Fitting, prediction and evaluation jobs over a dataset index; the results cache; devices.

Qt-free: progress goes through plain callbacks, cancellation through ``threading.Event``; the GUI runs these jobs
in a worker process (``job_process``; docs/adr/0007) and the CLI in the foreground.
"""
