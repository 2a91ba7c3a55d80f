"""The service directory: local services on the Open Referral UK data standard, imported from
a feed (`oruk.py`), stored in `models.py`, searched and replaced in `service.py`; the LSSF
service lines as a taxonomy (`taxonomy.py`). It holds no claimant data."""
