# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Plain helpers of the models that are not models: the billing guard and
the bulk row insert."""
