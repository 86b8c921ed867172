# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the models share that is not a model: the billing guard, the bulk
row insert, the wkhtmltopdf build."""
