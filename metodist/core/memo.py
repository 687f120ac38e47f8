"""Values that several parts of one page ask for, found once per request.

The frame (the year selector, the stage figures of the navigation) and the page itself each ask whether
the results have changed since the cached figures were made: a handful of index look-ups, but asked eight
times a page. `per_request(key, compute)` keeps the answer for the request being answered
(`RequestMemoMiddleware` opens and closes the memo); outside a request (the CLI, a task, a test calling a
function) it computes every time. Any model saved or deleted during the request empties the memo, so a
view that writes and then reads sees its own write.
"""

from __future__ import annotations

from contextvars import ContextVar

_memo: ContextVar[dict | None] = ContextVar("metodist_request_memo", default=None)


def per_request(key, compute):
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget(*args, **kwargs) -> None:
    """A signal receiver: what the request found so far may be stale."""
    memo = _memo.get()
    if memo:
        memo.clear()


class RequestMemoMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
