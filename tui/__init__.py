"""deskline console: the Textual app and the command line.

Importing this package is cheap: Textual is imported only by the modules that
build the app (``tui.app``), so ``deskline --help`` starts fast.
"""
