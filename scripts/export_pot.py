#!/usr/bin/env python3
"""Export the addon's translatable terms and merge them into its .po files.

From the repository root (Odoo 18 importable, PostgreSQL server binaries
installed, as for ``scripts/odoo_suite.py``)::

    python3 scripts/export_pot.py [--reuse DIR] [--new-language CODE]

1. starts a throwaway PostgreSQL cluster (``ppu_tools.cluster``) and
   installs ``sophos_ppu`` without demo data in a fresh database;
2. exports the module's terms with Odoo's own exporter
   (``python3 -m odoo --i18n-export=... --modules=sophos_ppu``) to
   ``sophos_ppu/i18n/sophos_ppu.pot``;
3. merges that template into every ``sophos_ppu/i18n/<lang>.po`` (polib,
   as ``msgmerge`` does): translations of unchanged terms are kept, new terms
   are added with an empty ``msgstr``, terms gone from the module are dropped,
   references and comments come from the template, entries follow its order.

It prints, per language, the terms that still need a translation (new,
empty or fuzzy) and exits 0; the Odoo test ``TestTranslations`` fails until
they are translated. ``--new-language fr_CA`` (or ``es``) starts a new
``.po`` file from the template. ``--reuse DIR`` keeps the cluster and the
database in DIR and only updates the addon (``-u``) on the next run.
"""

import argparse
import shutil
import sys
from pathlib import Path

from ppu_tools import ADDON, REPO, work_dir
from ppu_tools.cluster import Cluster, free_port
from ppu_tools.odoo_cli import import_odoo, odoo_command, run_logged

DB_NAME = "ppu_i18n"
I18N_DIR = REPO / ADDON / "i18n"
POT_PATH = I18N_DIR / f"{ADDON}.pot"
# Plural-Forms headers for new .po files (gettext's table); Odoo itself does
# not use plurals, msgfmt -c wants the header to be valid.
PLURAL_FORMS = {
    "de": "nplurals=2; plural=(n != 1);",
    "en": "nplurals=2; plural=(n != 1);",
    "es": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "it": "nplurals=2; plural=(n != 1);",
    "nl": "nplurals=2; plural=(n != 1);",
    "pt": "nplurals=2; plural=(n != 1);",
}


def i18n_command(odoo, cluster, *args):
    return odoo_command(
        odoo, cluster, DB_NAME, f"--http-port={free_port()}", "--gevent-port=0",
        "--without-demo=all", "--log-level=warn", *args,
    )  # fmt: skip


def run(cmd, log_file):
    """Run an Odoo command, its output in log_file; exit with it on failure."""
    returncode, _lines = run_logged(cmd, log_file)
    if returncode:
        sys.stdout.write(Path(log_file).read_text(encoding="utf-8")[-5000:])
        sys.exit(f"'{' '.join(cmd[:3])} ...' failed (status {returncode}).")


def export_pot(odoo, directory):
    """Install (or update) the addon and export its template to POT_PATH."""
    cluster = Cluster(directory)
    installed = cluster.start(DB_NAME)
    try:
        step = "--update" if installed else "--init"
        print(f"{'Updating' if installed else 'Installing'} {ADDON} in {DB_NAME}...")
        install = i18n_command(odoo, cluster, "--stop-after-init", step, ADDON)
        run(install, directory / "install.log")
        print(f"Exporting the terms of {ADDON}...")
        exported = directory / f"{ADDON}.pot"
        export = i18n_command(
            odoo, cluster, f"--i18n-export={exported}", f"--modules={ADDON}"
        )
        run(export, directory / "export.log")
    finally:
        cluster.stop()
    I18N_DIR.mkdir(exist_ok=True)
    shutil.copyfile(exported, POT_PATH)


def new_po(polib, pot, code):
    """An empty catalogue for language ``code`` with the template's entries."""
    po = polib.POFile(wrapwidth=pot.wrapwidth)
    po.header = pot.header
    po.metadata = dict(pot.metadata)
    po.metadata["Language"] = code
    po.metadata["Plural-Forms"] = PLURAL_FORMS.get(code.split("_")[0], "")
    return po


def merge(polib, pot, po):
    """Merge ``pot`` into ``po`` in place; return (dropped msgids, to translate)."""
    known = {entry.msgid_with_context: entry for entry in po if not entry.obsolete}
    wanted = {entry.msgid_with_context for entry in pot}
    dropped = sorted(msgid for msgid in known if msgid not in wanted)
    merged = []
    for ref in pot:
        entry = known.get(ref.msgid_with_context) or polib.POEntry()
        entry.merge(ref)
        merged.append(entry)
    po[:] = merged
    po.metadata["POT-Creation-Date"] = pot.metadata.get("POT-Creation-Date", "")
    po.metadata["Project-Id-Version"] = pot.metadata.get("Project-Id-Version", "")
    todo = [entry.msgid for entry in po if not entry.msgstr or entry.fuzzy]
    return dropped, todo


def update_catalogues(new_languages):
    import polib

    pot = polib.pofile(str(POT_PATH))
    print(f"{POT_PATH.relative_to(REPO)}: {len(pot)} terms")
    for code in new_languages:
        path = I18N_DIR / f"{code}.po"
        if not path.exists():
            new_po(polib, pot, code).save(str(path))
    for path in sorted(I18N_DIR.glob("*.po")):
        po = polib.pofile(str(path), wrapwidth=pot.wrapwidth)
        dropped, todo = merge(polib, pot, po)
        po.save(str(path))
        print(
            f"{path.relative_to(REPO)}: {len(po) - len(todo)} translated, "
            f"{len(todo)} to translate, {len(dropped)} dropped"
        )
        for msgid in todo:
            print(f"  to translate: {msgid[:70]!r}")
        for msgid in dropped:
            print(f"  dropped: {msgid[:70]!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reuse", metavar="DIR", help="keep the cluster and the database in DIR"
    )
    parser.add_argument(
        "--new-language",
        metavar="CODE",
        action="append",
        default=[],
        help="start sophos_ppu/i18n/CODE.po from the template (repeatable)",
    )
    args = parser.parse_args(argv)
    odoo = import_odoo(
        "No export: 'import odoo' fails for this Python (see 'make install')."
    )
    if odoo is None:
        return 0

    with work_dir(args.reuse, "sophos_ppu_i18n_") as directory:
        export_pot(odoo, directory)
    update_catalogues(args.new_language)
    return 0


if __name__ == "__main__":
    sys.exit(main())
