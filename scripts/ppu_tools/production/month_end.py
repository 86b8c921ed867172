"""The month-end over HTTP, as the web client drives it: the database
prepared, then the upload, "Create invoices", "Confirm Entries" and the
statements' sending, each followed until it is done."""

import base64
import re
import time

from ppu_tools.bench import install_once
from ppu_tools.month_data import DB_NAME, PERIOD, prepare_month
from ppu_tools.odoo_cli import open_registry
from ppu_tools.production import Failure
from ppu_tools.rpc import RpcError

WIZARD = "sophos.ppu.import.wizard"
IMPORT = "sophos.ppu.import"
MOVE = "account.move"
VALIDATE = "validate.account.move"
#: What the batch form shows, read at every poll when the model has it.
BATCH_FIELDS = [
    "name",
    "state",
    "job_step",
    "progress_done",
    "progress_total",
    "line_count",
    "ok_count",
    "error_count",
    "duplicate_count",
    "invoice_count",
    "invoice_error",
]
#: Other fields of the batch read at every poll, should the model have them.
BACKGROUND_FIELD = re.compile(r"job|progress|step|chunk|queue|error")
SCALAR_TYPES = {"char", "text", "integer", "float", "selection", "boolean", "datetime"}


def prepare(odoo, cluster, args):
    """Install, create the data (or reset a kept database); return the file."""
    from odoo import SUPERUSER_ID, api

    install_once(odoo, cluster, args.update)
    registry = open_registry(odoo, cluster, DB_NAME)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        file_path = prepare_month(env, args, cluster.directory, reset_batches)
    odoo.sql_db.close_all()
    return file_path


def reset_batches(env):
    """A kept database: drop the batches (and invoices) of the last run so
    that the same month can be billed again."""
    batches = env["sophos.ppu.import"].search([])
    if not batches:
        return
    posted = batches.invoice_ids.filtered(lambda move: move.state == "posted")
    posted.with_context(force_delete=True).button_draft()
    for batch in batches:
        if batch.state != "cancelled":
            batch.with_context(force_delete=True).action_cancel()
    batches.unlink()
    print(f"kept database: {len(batches)} earlier batches dropped", flush=True)


class Run:
    """The month-end of one check, driven over ``client``: what it saw
    (``figures``) and what failed."""

    def __init__(self, client, args, file_path, smtp):
        self.client, self.args, self.smtp = client, args, smtp
        self.file_path = file_path
        self.failures = []
        self.figures = {}
        self.batch_fields = list(BATCH_FIELDS)

    def fail(self, message):
        self.failures.append(message)
        print(f"FAILURE: {message}", flush=True)

    def fields_of(self, model, wanted):
        fields, _seconds = self.client.call(
            model, "fields_get", [wanted], attributes=["type", "selection"]
        )
        return fields

    def read_batch(self, batch_id, echo=False):
        spec = {name: {} for name in self.batch_fields}
        records, seconds = self.client.call(
            IMPORT, "web_read", [[batch_id]], echo=echo, specification=spec
        )
        if not records:
            raise Failure(f"batch {batch_id} is gone")
        return records[0], seconds

    def poll_batch(self, batch_id, busy, since):
        """Read the batch every second while its state is one of ``busy``
        (and no invoicing failure is reported)."""
        shown = None
        last_shown = 0.0
        deadline = time.monotonic() + self.args.timeout
        while True:
            batch, seconds = self.read_batch(batch_id)
            elapsed = time.monotonic() - since
            progress = describe(batch)
            if (
                progress != shown
                or elapsed - last_shown >= 15
                or seconds > self.client.limit
            ):
                self.client.echo(
                    "call_kw sophos.ppu.import.web_read",
                    seconds,
                    note=f"  [{elapsed:6.1f} s] {progress}",
                )
                shown, last_shown = progress, elapsed
            if batch["state"] not in busy or failed(batch):
                return batch
            if time.monotonic() > deadline:
                self.fail(f"batch still {batch['state']} after {self.args.timeout} s")
                return batch
            time.sleep(1)

    def last_batch_id(self):
        ids, _seconds = self.client.call(
            IMPORT, "search", [[]], order="id desc", limit=1
        )
        return ids[0] if ids else 0

    def upload(self):
        print("\n== upload ==", flush=True)
        fields = self.fields_of(IMPORT, None)
        # The fields the form shows, and whatever the background work adds.
        self.batch_fields = [name for name in BATCH_FIELDS if name in fields] + [
            name
            for name, field in sorted(fields.items())
            if BACKGROUND_FIELD.search(name)
            and name not in BATCH_FIELDS
            and field["type"] in SCALAR_TYPES
        ]
        states = [key for key, _label in fields["state"].get("selection", [])]
        self.states = states
        print(f"batch states: {', '.join(states)}", flush=True)
        missing = sorted(set(BATCH_FIELDS) - set(self.batch_fields))
        if missing:
            print(f"batch fields not (yet) there: {', '.join(missing)}", flush=True)
        before = self.last_batch_id()
        spec = {
            "file": {},
            "filename": {},
            "period_date": {},
            "partner_id": {"fields": {"display_name": {}}},
            "company_id": {"fields": {"display_name": {}}},
            "required_columns": {},
            "existing_batch_warning": {},
        }
        # The dialog opens (defaults), the file and the month are picked.
        self.client.call(WIZARD, "onchange", [[], {}, [], spec])
        data = self.file_path.read_bytes()
        values = {
            "file": base64.b64encode(data).decode(),
            "filename": self.file_path.name,
            "period_date": PERIOD.isoformat(),
        }
        self.client.call(WIZARD, "onchange", [[], values, ["period_date"], spec])
        # "Import": the dialog saves the wizard, then calls its button.
        started = time.monotonic()
        self.figures["started"] = started
        saved, _seconds = self.client.call(
            WIZARD,
            "web_save",
            [[], values],
            context={"bin_size": True},
            specification={"display_name": {}},
        )
        batch_id = None
        try:
            action, _seconds = self.client.call(
                WIZARD, "action_import", [[saved[0]["id"]]], button=True
            )
            batch_id = action.get("res_id")
        except RpcError as error:
            self.fail(f"the upload request failed: {error}")
        if not batch_id:
            latest = self.last_batch_id()
            if latest == before:
                raise Failure("no batch was created")
            batch_id = latest
        print(f"batch id {batch_id}", flush=True)
        # With background work, a draft batch is one waiting for its job.
        busy = {"importing", "draft"} if "importing" in self.states else set()
        batch = self.poll_batch(batch_id, busy, started)
        self.figures["checked"] = time.monotonic() - started
        self.figures["batch_checked"] = batch
        if batch["state"] != "checked":
            raise Failure(f"the batch is {batch['state']} after the upload")
        return batch

    def invoice(self, batch):
        print("\n== create invoices ==", flush=True)
        context = {"ppu_leave_errors": True} if batch.get("error_count") else {}
        started = time.monotonic()
        busy = {"invoicing"}
        try:
            self.client.call(
                IMPORT, "action_create_invoices", [[batch["id"]]],
                context=context, button=True,
            )  # fmt: skip
            if "invoicing" in self.states:
                busy.add("checked")  # queued, its job not started yet
        except RpcError as error:
            self.fail(f"the invoicing request failed: {error}")
        batch = self.poll_batch(batch["id"], busy, started)
        self.figures["invoicing"] = time.monotonic() - started
        self.figures["invoiced"] = time.monotonic() - self.figures["started"]
        self.figures["batch_invoiced"] = batch
        if batch.get("invoice_error"):
            print(f"invoice_error: {batch['invoice_error']}", flush=True)
        if batch["state"] != "invoiced":
            raise Failure(f"the batch is {batch['state']}, not invoiced")
        return batch

    def post(self, batch):
        print("\n== post all drafts (Confirm Entries) ==", flush=True)
        records, _seconds = self.client.call(
            IMPORT, "web_read", [[batch["id"]]], specification={"invoice_ids": {}}
        )
        move_ids = records[0]["invoice_ids"]
        self.figures["invoices"] = len(move_ids)
        if not move_ids:
            raise Failure("the batch has no invoices")
        domain = [["ppu_import_id", "=", batch["id"]]]
        # The invoice list (stat button "Invoices"), then "select all".
        self.client.call(
            MOVE, "web_search_read", [], domain=domain, limit=80, offset=0,
            order="", count_limit=10001,
            specification={
                "name": {}, "partner_id": {"fields": {"display_name": {}}},
                "invoice_date": {}, "amount_total_signed": {}, "state": {},
                "move_type": {},
            },
        )  # fmt: skip
        self.client.call(MOVE, "search", [domain], limit=20000)
        # Action > Confirm Entries: the action, its dialog, its button.
        self.client.post(
            "/web/action/load",
            {"action_id": "account.action_validate_account_move"},
            "POST /web/action/load account.action_validate_account_move",
        )
        active = {
            "active_model": MOVE,
            "active_ids": move_ids,
            "active_id": move_ids[0],
            "active_domain": domain,
        }
        spec = {
            "move_ids": {},
            "force_post": {},
            "display_force_post": {},
            "is_entries": {},
            "abnormal_date_partner_ids": {"fields": {"display_name": {}}},
            "ignore_abnormal_date": {},
            "abnormal_amount_partner_ids": {"fields": {"display_name": {}}},
            "ignore_abnormal_amount": {},
        }
        self.client.call(VALIDATE, "onchange", [[], {}, [], spec], context=active)
        started = time.monotonic()
        saved, _seconds = self.client.call(
            VALIDATE,
            "web_save",
            [[], {"move_ids": [[6, 0, move_ids]]}],
            context=active,
            specification={"display_name": {}},
        )
        request_failed = False
        try:
            self.client.call(
                VALIDATE, "validate_move", [[saved[0]["id"]]],
                context=active, button=True,
            )  # fmt: skip
        except RpcError as error:
            request_failed = True
            self.fail(f"the posting request failed: {error}")
        posted = self.poll_count(
            "posted",
            [["id", "in", move_ids], ["state", "=", "posted"]],
            len(move_ids),
            started,
            once=request_failed,
        )
        self.figures["posted"] = posted
        self.figures["posting"] = time.monotonic() - started
        self.figures["all_posted"] = time.monotonic() - self.figures["started"]
        if posted != len(move_ids):
            self.fail(f"{posted} of {len(move_ids)} invoices posted")
        return move_ids

    def poll_count(self, what, domain, target, since, once=False, timeout=None):
        deadline = time.monotonic() + (timeout or self.args.timeout)
        shown = None
        last_shown = 0.0
        while True:
            count, seconds = self.client.call(
                MOVE, "search_count", [domain], echo=False
            )
            elapsed = time.monotonic() - since
            slow = seconds > self.client.limit
            if count != shown or elapsed - last_shown >= 15 or slow:
                self.client.echo(
                    "call_kw account.move.search_count",
                    seconds,
                    note=f"  [{elapsed:6.1f} s] {what} {count}/{target}",
                )
                shown, last_shown = count, elapsed
            if count >= target or once or time.monotonic() > deadline:
                return count
            time.sleep(1)

    def statements(self, move_ids):
        if not self.args.send_timeout or not self.figures.get("posted"):
            return
        print("\n== statements (background sending, mail queue) ==", flush=True)
        started = time.monotonic()
        deadline = started + self.args.send_timeout
        moves = [["id", "in", move_ids]]
        shown = None
        last_shown = 0.0
        while True:
            pending, s1 = self.client.call(
                MOVE, "search_count", [[*moves, ["sending_data", "!=", False]]],
                echo=False,
            )  # fmt: skip
            sent, s2 = self.client.call(
                MOVE, "search_count", [[*moves, ["is_move_sent", "=", True]]],
                echo=False,
            )  # fmt: skip
            queued, s3 = self.client.call(
                "mail.mail", "search_count",
                [[["model", "=", MOVE], ["res_id", "in", move_ids],
                  ["state", "in", ["outgoing", "exception"]]]],
                echo=False,
            )  # fmt: skip
            elapsed = time.monotonic() - started
            state = (
                f"to send {pending}, marked sent {sent}/{len(move_ids)}, "
                f"mails queued {queued}, mails received {self.smtp.messages}"
            )
            if state != shown or elapsed - last_shown >= 15:
                self.client.echo(
                    "3 x search_count",
                    s1 + s2 + s3,
                    note=f"  [{elapsed:6.1f} s] {state}",
                )
                shown, last_shown = state, elapsed
            if not pending and (sent == len(move_ids) or not queued):
                print(f"statements: done in {elapsed:.0f} s after posting", flush=True)
                break
            if time.monotonic() > deadline:
                print(
                    f"statements: not done after {self.args.send_timeout} s "
                    "(reported, not a failure)",
                    flush=True,
                )
                break
            time.sleep(2)
        self.figures["statements"] = state

    def month_end(self):
        batch = self.upload()
        batch = self.invoice(batch)
        move_ids = self.post(batch)
        self.statements(move_ids)


def failed(batch):
    """A failure the background work reports on the batch."""
    return any(
        value
        for name, value in batch.items()
        if "error" in name and not name.endswith("_count")
    )


def describe(batch):
    parts = [batch["state"]]
    if batch.get("job_step"):
        parts.append(str(batch["job_step"]))
    if batch.get("progress_total"):
        parts.append(f"{batch.get('progress_done') or 0}/{batch['progress_total']}")
    parts.extend(
        f"{name}={value:.1f}" if isinstance(value, float) else f"{name}={value}"
        for name, value in batch.items()
        if name not in BATCH_FIELDS and name != "id" and value not in (False, None)
    )
    parts.append(
        f"rows {batch.get('line_count', 0)} (errors {batch.get('error_count', 0)}, "
        f"duplicates {batch.get('duplicate_count', 0)}), "
        f"invoices {batch.get('invoice_count', 0)}"
    )
    return "  ".join(parts)
