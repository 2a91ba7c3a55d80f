"""The case around a claimant: its lead worker, review date, closure and reopening."""
