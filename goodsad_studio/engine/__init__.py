"""The engine: fitting, prediction, evaluation and export jobs over a dataset, the results cache, saved outcomes.

``contract`` says what can be asked and what comes back (plain data); ``client`` and ``transports`` carry requests
to ``worker`` (which imports the methods and torch) in the studio's worker process or in the caller's own process
(docs/adr/0007, docs/adr/0008); ``inspect``, ``evaluations``, ``cache``, ``records`` and ``layout`` read what the
jobs left on disk, for the views, without torch. Qt-free.
"""
