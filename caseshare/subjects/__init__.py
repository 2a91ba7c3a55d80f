"""Claimants (data subjects): pseudonymous ids, sealed identity fields, case membership."""
