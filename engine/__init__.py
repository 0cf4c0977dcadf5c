"""deskline engine: a UI-free, async library.

Template model and XML I/O, the PBX's Go text/template dialect, GJSON paths,
the HTTP runtime with authentication, scenario flows, PBX event sources and
the SQLite store.  Nothing in this package may import ``textual`` or ``rich``
(``tests/test_import_hygiene.py`` enforces it).
"""

__version__ = "0.1.0"
