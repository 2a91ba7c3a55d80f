"""THE path for every read and write of subject data: principal, purpose, decision, disclosure.

Every request runs its use case inside `with access.begin(...) as ctx:` (access/context.py).
`begin` and `RequestContext` are loaded on first use (PEP 562): domain packages still import
`caseshare.access.decision`, and an eager import here would close a cycle through them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from caseshare.access.context import RequestContext, begin

__all__ = ["RequestContext", "begin"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from caseshare.access import context

        return getattr(context, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
