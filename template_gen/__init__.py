"""Render the stack's SAM template from the declarative spec in `spec.py`."""
