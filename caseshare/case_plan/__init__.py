"""The shared case plan (single claimant journey): goals, actions, notes; sealed per field."""
