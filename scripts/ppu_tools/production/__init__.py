"""The parts of ``scripts/production_check.py``: the month-end in a
production-like Odoo.

==================  ==========================================================
``deployment``      prefork Odoo servers, queue_job's runner, a proxy
``month_end``       the database prepared, the month-end over HTTP
``bus``             gevent and the bus, as a logged-in browser tab sees them
``report``          what the check prints at its end
``scale``           the scale-out: the month-end by jobs at once and servers
==================  ==========================================================
"""

LOGIN = PASSWORD = "admin"


class Failure(Exception):
    """The check cannot go on: it ends with what it has seen."""
