"""One outbound channel for messages to claimants (appointment reminders): GOV.UK Notify in
production, SMTP (any mail server) elsewhere. `settings.py` reads which one from the
environment, `channel.py` holds the shared values, `smtp.py` and `notify.py` the two real
implementations, `mail_sink.py` the local SMTP server the demo and the tests run."""
