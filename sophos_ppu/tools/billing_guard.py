# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Who may change billing data: the import's own actions, nobody else.

Batches and rows refuse, in ``create``/``write``/``unlink``, every change of
what decides billing (state, prices, matching results, billed keys, invoice
links) unless it runs inside :func:`trusted`. Their actions enter it through
private methods (``_ppu_write``, ``_ppu_create``...), which RPC cannot call;
a context key would not do, since any RPC client can send one. The flag is
a context variable: it belongs to the running request's thread and task,
so it never leaks into another request.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from odoo.exceptions import AccessError

_TRUSTED = ContextVar("sophos_ppu_trusted", default=False)


@contextmanager
def trusted():
    """Let the import's own actions change the guarded fields."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def is_trusted():
    return _TRUSTED.get()


def refuse_untrusted(records, field_names, writable=()):
    """Raise when, outside :func:`trusted`, ``field_names`` include one that
    only the import's actions may set (any field not in ``writable``)."""
    if is_trusted():
        return
    guarded = sorted(set(field_names) - set(writable))
    if guarded:
        labels = ", ".join(records._fields[name].string for name in guarded)
        raise AccessError(
            records.env._(
                "%(model)s: %(fields)s can only be set by the import's own "
                "actions (check, create invoices, cancel).",
                model=records._description,
                fields=labels,
            )
        )
