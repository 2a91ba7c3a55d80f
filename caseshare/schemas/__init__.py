"""Marshmallow schemas, one module per resource. Shape only; state is checked in services."""
