"""Information sharing protocols as data: the files in `policies/` are the rules."""
