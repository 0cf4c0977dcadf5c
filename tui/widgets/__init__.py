"""Reusable console widgets (they ship their own DEFAULT_CSS and never do I/O)."""
