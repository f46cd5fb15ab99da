"""The engine's working side: it imports the methods (and torch). It runs in the worker process, or in the CLI's
and the tests' own process; the studio's process never imports it (an import-linter contract keeps it so)."""
