"""THE path for every read and write of subject data: principal, purpose, decision, disclosure."""
