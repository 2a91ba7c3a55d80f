"""The worker's scheduled jobs (`flask --app wsgi caseshare worker`)."""
