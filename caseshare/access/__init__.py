"""THE path for every read and write of subject data: principal, purpose, decision, disclosure.

Every request runs its use case inside `with access.begin(...) as ctx:` (access/context.py): it
checks the token's scope and the declared purpose once, and is the unit of work that commits.
"""

from __future__ import annotations

from caseshare.access.context import RequestContext, begin

__all__ = ["RequestContext", "begin"]
