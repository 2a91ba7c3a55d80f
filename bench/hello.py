"""The yardstick: a minimal Flask JSON endpoint, served with the same gunicorn settings as
Caseshare, so `read_vs_hello` compares the audited read with what the web stack itself allows."""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/hello")
def hello() -> ResponseReturnValue:
    return jsonify({"status": "ok"})
