"""Consent records (immutable, versioned), consent forms, withdrawal."""
