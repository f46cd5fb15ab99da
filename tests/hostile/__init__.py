"""Hostile input: files and conditions built to break the studio, and what it must do with each (one message that
names the file, the project's own error type, every user file left as it was)."""
