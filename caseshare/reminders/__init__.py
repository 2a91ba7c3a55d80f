"""Appointment reminders to claimants: the contact preference (the claimant's agreement to be
contacted, on which channel, in which language) and the outbox of reminders to send."""
