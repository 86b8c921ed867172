# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Insert many records of a model in one SQL statement, storing what
``create()`` would store.

``create()`` spends most of its time per record and per value: defaults,
the currency of each Monetary value looked up through a new record, the
cache, the company checks. :func:`insert_like_create` does the same work
once per call where it can:

- the defaults of fields not given: ``default_get`` once;
- the audit columns: the user, and the transaction's now for both dates;
- each value converted to its column as ``create()`` converts it, Monetary
  values rounded to their currency (looked up once per currency);
- precomputed fields: the values given are kept (the caller computes them as
  the field does), the missing ones computed by the ORM in one batch;
- then, as ``create()`` does after its INSERT: the inverse one2many fields
  invalidated, the fields depending on the new records marked to recompute,
  the Python constraints of the stored fields, the company checks (once per
  distinct set of values they read), the create access rules.

For the addon's own staging rows only: plain stored columns, no translated,
company-dependent, inherited, x2many or inverse fields (refused). Invoices
and anything Odoo's accounting owns are always created through the ORM.
"""

from collections import defaultdict

from odoo.models import LOG_ACCESS_COLUMNS, SQL_DEFAULT
from odoo.tools import SQL, float_repr


def insert_like_create(model, vals_list):
    """Create records of ``model`` from ``vals_list`` in one INSERT and return
    them in the order of ``vals_list``, with the column values ``create()``
    would write."""
    model = model.browse()
    if not vals_list:
        return model
    model.check_access("create")
    vals_list = _with_defaults(model, vals_list)
    names = sorted({name for vals in vals_list for name in vals})
    _refuse_unsupported(model, names)
    env = model.env
    # create_uid, create_date, write_uid, write_date: as create() sets them.
    audit = (env.uid, env.cr.now(), env.uid, env.cr.now()) if model._log_access else ()
    columns = names + (LOG_ACCESS_COLUMNS if model._log_access else [])
    convert = _converters(model, names)
    rows = [
        tuple(
            convert[name](vals[name], model, vals) if name in vals else SQL_DEFAULT
            for name in names
        )
        + audit
        for vals in vals_list
    ]
    ids = [
        id_
        for (id_,) in env.execute_query(
            SQL(
                'INSERT INTO %s (%s) VALUES %s RETURNING "id"',
                SQL.identifier(model._table),
                SQL(", ").join(map(SQL.identifier, columns)),
                SQL(", ").join(rows),
            )
        )
    ]
    records = model.browse(ids)
    _after_insert(records, vals_list, names)
    return records


def _with_defaults(model, vals_list):
    """``vals_list`` completed with the defaults of the fields a row does not
    give (one ``default_get``), then with the precomputed fields a row does
    not give (computed in one batch)."""
    missing = [
        name for name in model._fields if any(name not in vals for vals in vals_list)
    ]
    defaults = model.default_get(missing) if missing else {}
    vals_list = [{**defaults, **vals} for vals in vals_list]
    precomputed = [name for name, field in model._fields.items() if field.precompute]
    if any(name not in vals for vals in vals_list for name in precomputed):
        model._add_precomputed_values(vals_list)
        for vals in vals_list:
            vals.pop("__precomputed__", None)
    return vals_list


def _refuse_unsupported(model, names):
    """Only plain stored columns: what ``create()`` would do more for the
    others (inverses, translations, parent records) is not done here."""
    refused = [
        name
        for name in names
        if name in ("id", "parent_path", *LOG_ACCESS_COLUMNS)
        or not _plain_column(model._fields.get(name))
    ]
    if refused or model._inherits or model._parent_store:
        raise ValueError(f"{model._name}: cannot insert {refused} in bulk")


def _plain_column(field):
    return (
        field is not None
        and field.column_type
        and field.type != "properties"
        and not (field.translate or field.company_dependent or field.inherited)
        and not (field.inverse and not (field.precompute and field.readonly))
    )


def _converters(model, names):
    """{field name: function (value, model, vals) -> column value}: the
    field's ``convert_to_column_insert``, which is its ``convert_to_column``
    for the plain columns inserted here, but for Monetary fields."""
    return {
        name: (
            _monetary_converter(model, field)
            if field.type == "monetary"
            else field.convert_to_column
        )
        for name in names
        for field in [model._fields[name]]
    }


def _monetary_converter(model, field):
    """``Monetary.convert_to_column_insert`` with the currency of each
    distinct value of the currency field (or of the first field of its
    related path) looked up once."""
    currency_name = field.get_currency_field(model)
    related = model._fields[currency_name].related
    sources = [currency_name] + ([related.split(".")[0]] if related else [])
    currencies = {}

    def convert(value, model, vals):
        source = next((name for name in sources if name in vals), None)
        if source is None:
            currency = model.env["res.currency"]
        else:
            key = (source, vals[source])
            if key not in currencies:
                currencies[key] = model.new({source: vals[source]})[currency_name]
            currency = currencies[key]
        value = float(value or 0.0)
        if currency:
            return float_repr(currency.round(value), currency.decimal_places)
        return value

    return convert


def _after_insert(records, vals_list, names):
    """What ``create()`` does once its rows are inserted."""
    model = records.browse()
    fields = model._fields
    for name in names:
        for inverse in model.pool.field_inverses[fields[name]]:
            model.env[inverse.model_name].invalidate_model([inverse.name])
    # Computed values given stay as given (create() protects them too).
    by_names = defaultdict(list)
    for record, vals in zip(records, vals_list, strict=True):
        by_names[frozenset(vals)].append(record.id)
    protected = [
        (_protected(model, given), records.browse(ids))
        for given, ids in by_names.items()
    ]
    with model.env.protecting(protected):
        records.modified(fields, create=True)
    records._validate_fields(names)
    if model._check_company_auto:
        _check_company_once(records, vals_list)
    records.check_access("create")


def _protected(model, names):
    """The computed fields ``create()`` does not recompute when ``names`` are
    given."""
    return {
        computed
        for name in names
        if (field := model._fields[name]).compute
        and (not field.readonly or field.precompute)
        for computed in model.pool.field_computed.get(field, [field])
    }


def _check_company_once(records, vals_list):
    """``_check_company()`` on one record per distinct set of the values it
    reads: the same verdict as on all of them, without a check per row."""
    fields = records._fields
    names = [
        name
        for name, field in fields.items()
        if name in ("company_id", "company_ids")
        or (field.relational and field.check_company)
    ]
    representatives = {}
    for record, vals in zip(records, vals_list, strict=True):
        key = tuple(repr(vals.get(name)) for name in names)
        representatives.setdefault(key, record.id)
    records.browse(representatives.values())._check_company()
