"""Where jobs run: in the studio's worker process (``process``) or in the caller's own process (``inline``)."""
