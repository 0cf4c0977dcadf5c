"""Integration tests against real helpdesks started by scripts/ (Request Tracker 5, django-helpdesk)."""
