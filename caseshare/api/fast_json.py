"""orjson for the hottest response, the case-plan read: marshmallow's dump and the standard
library encoder cost about 8 % of an audited read (docs/performance.md).

The document handed in must already be in its output shape (plan_out builds exactly PlanOut's
fields); tests/api/test_fast_json.py checks the result parses to the same JSON as the schema
dump through Flask's encoder. Keys are sorted as Flask sorts them, UUIDs and dates come out as
marshmallow writes them, and UTC timestamps end in `Z` as API.md says.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, current_app

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE


def json_response(document: dict[str, Any]) -> Response:
    response: Response = current_app.response_class(orjson.dumps(document, option=_OPTIONS),
                                                    mimetype="application/json")
    return response
