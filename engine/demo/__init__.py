"""The built-in demo helpdesk used by ``deskline demo`` and by fast tests."""

from engine.demo.helpdesk import DemoHelpdesk, DemoOptions, RecordedRequest

__all__ = ["DemoHelpdesk", "DemoOptions", "RecordedRequest"]
