"""In-app notifications: what a staff member or a team should see on their next page."""
