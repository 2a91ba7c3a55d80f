"""Housing and money work as structured records: tenancy (with monthly rent-account snapshots),
Alternative Payment Arrangements, money action plans, and banking and digital steps. Sealed,
categorised and versioned like plan entries, read and written under the decision."""
