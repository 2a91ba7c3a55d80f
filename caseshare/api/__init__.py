"""HTTP edge only: parse, call one use case, serialise. No SQL, crypto or policy here."""
