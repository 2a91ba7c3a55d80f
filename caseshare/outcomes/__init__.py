"""Outcomes that count: codes from each partnership's controlled list, recorded with a date,
service line and evidence reference (or computed from structured records), attributed to the
organisations that contributed; and the disclosure-controlled counts built on them."""
