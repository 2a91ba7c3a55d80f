"""Envelope encryption: keyring (key-encryption keys), per-subject data keys, sealed fields."""
