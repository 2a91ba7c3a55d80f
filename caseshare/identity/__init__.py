"""Organisations, staff members, partner clients, and the access tokens they carry."""
