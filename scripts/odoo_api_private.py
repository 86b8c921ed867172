"""``odoo.api.private`` for Odoo 18.0 trees older than it (early 2025).

OCA queue_job 18.0 marks methods with ``@api.private``, which Odoo 18.0 added
in a later patch release: it only flags a method as not callable over RPC.
``scripts/install_odoo.py`` installs this module, with a ``.pth`` file that
imports it at start-up, only for an Odoo tree that lacks ``api.private``; it
then gives ``odoo.api`` that decorator when Odoo imports it. Current Odoo
18.0 trees have it, and this module is not installed for them.
"""

import importlib.abc
import importlib.util
import sys


def private(method):
    """As Odoo 18.0's ``api.private``: mark ``method`` as not for RPC."""
    method._api_private = True
    return method


class _AddPrivate(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "odoo.api":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module

        def exec_and_add(module):
            exec_module(module)
            if not hasattr(module, "private"):
                module.private = private

        spec.loader.exec_module = exec_and_add
        return spec


sys.meta_path.insert(0, _AddPrivate())
