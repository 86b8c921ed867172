"""Scale-out: the month-end with more jobs at once, and more servers."""

import math

from ppu_tools.production.check import check, deployed
from ppu_tools.production.deployment import Deployment
from ppu_tools.production.month_end import prepare
from ppu_tools.server import JOB_CHANNEL


def configurations(args):
    """(servers, HTTP workers per server, channel capacity) to measure: one
    server per ``--scale`` capacity, then ``--servers`` servers sharing the
    largest one. Each server keeps one HTTP worker more than the jobs it
    gets at once (the proxy deals them out in turn), for the web client."""
    found = [(1, capacity + 1, capacity) for capacity in args.scale]
    if args.servers > 1:
        capacity = max(args.scale)
        found.append((args.servers, math.ceil(capacity / args.servers) + 1, capacity))
    return found


def invoice_lines(client, batch_id):
    count, _seconds = client.call(
        "account.move.line", "search_count",
        [[["move_id.ppu_import_id", "=", batch_id], ["display_type", "=", "product"]]],
        echo=False,
    )  # fmt: skip
    return count


def measure(odoo, cluster, args, smtp, configuration):
    """One configuration of the scale-out: the month-end from a reset
    database to ``invoiced`` (and posted with ``--post``); its figures."""
    servers, workers, capacity = configuration
    file_path = prepare(odoo, cluster, args)
    deployment = Deployment(odoo, cluster, args, smtp, servers, workers, capacity)
    label = deployment.describe()
    print(f"\n######## {label} ({JOB_CHANNEL}) ########", flush=True)
    result = {"label": label, "workers": workers, "capacity": capacity}
    result["servers"] = servers

    def steps(run):
        batch = run.invoice(run.upload())
        result["lines"] = invoice_lines(run.client, batch["id"])
        if args.post:
            run.post(batch)

    with deployed(deployment):
        run, scan = check(deployment, args, file_path, smtp, steps)
    figures = run.figures
    checked = figures.get("batch_checked") or {}
    result.update(
        rows=checked.get("line_count"),
        checked=figures.get("checked"),
        invoicing=figures.get("invoicing") if "lines" in result else None,
        posting=figures.get("posting"),
        invoices=figures.get("invoices"),
        jobs=len(scan.job_requests),
        failed=len(scan.job_failures),
        retries=len(scan.requeued),
        failures=run.failures,
    )
    if deployment.proxy:
        result["spread"] = deployment.proxy.connections
    return result


def rate(count, seconds):
    return count / seconds if count and seconds else None


def report_scale(results, args):
    print("\n== scale-out: the month-end by jobs at once and servers ==")
    print(
        "  checking: rows / (upload click -> checked); invoicing: invoice lines "
        'created / ("Create invoices"\n  click -> invoiced); ratio: to the '
        f"first configuration; capacity: {JOB_CHANNEL}'s. HTTP workers:\n  per "
        "server, one more than the jobs it runs at once, free for the web client."
    )
    head = (
        f"  {'configuration':<34} {'HTTP w.':>7} {'rows':>7} {'check s':>8} "
        f"{'rows/s':>7} {'ratio':>5} {'lines':>7} {'inv. s':>7} {'lines/s':>7} "
        f"{'ratio':>5} {'jobs':>5} {'failed':>6} {'retries':>7}"
    )
    if args.post:
        head += f" {'post s':>7}"
    print(head)
    base_check = base_invoice = None
    for result in results:
        check = rate(result["rows"], result["checked"])
        invoice = rate(result.get("lines"), result["invoicing"])
        base_check = base_check or check
        base_invoice = base_invoice or invoice

        def number(value, width, digits=0):
            return f"{value:{width}.{digits}f}" if value else f"{'-':>{width}}"

        line = (
            f"  {result['label']:<34} {result['workers']:7d} "
            f"{number(result['rows'], 7)} {number(result['checked'], 8, 1)} "
            f"{number(check, 7)} "
            f"{number(check and base_check and check / base_check, 5, 2)} "
            f"{number(result.get('lines'), 7)} {number(result['invoicing'], 7, 1)} "
            f"{number(invoice, 7)} "
            f"{number(invoice and base_invoice and invoice / base_invoice, 5, 2)} "
            f"{result['jobs']:5d} {result['failed']:6d} {result['retries']:7d}"
        )
        if args.post:
            line += f" {number(result['posting'], 7, 1)}"
        print(line)
    for result in results:
        if result.get("spread"):
            print(
                f"  {result['label']}: the proxy dealt "
                + " / ".join(map(str, result["spread"]))
                + " connections to the servers"
            )
    failures = [
        f"{result['label']}: {failure}"
        for result in results
        for failure in result["failures"]
    ]
    if failures:
        print(f"\nFAILED ({len(failures)}):")
        for failure in failures:
            print(f"  - {failure}")
    else:
        print(
            "\nOK: every configuration invoiced, no request over the limit, "
            "no worker killed, no job failed"
        )
    return 1 if failures else 0
