"""Retention as the protocols promise: when each organisation's copy of each category is due for
deletion, legal holds that pause it, and the pass that crypto-shreds what is due."""
