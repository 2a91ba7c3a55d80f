"""Multi-agency case conferences: who met, what they decided, and minutes sealed per category."""
