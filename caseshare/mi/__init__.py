"""Management information that protects claimants: counts of outcomes and activity by partner,
service line and period, disclosure-controlled (suppression, rounding, secondary suppression)
so that no output carries personal data; and the funding view costed from those counts."""
