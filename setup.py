"""Installs the consumption-file core and the offline checker command.

The Odoo addon itself is loaded by Odoo from the addons path; installing this
package only provides ``sophos_ppu.core`` and ``sophos-ppu-check``.
"""

from pathlib import Path

from setuptools import setup

REQUIREMENTS = [
    line.split("#")[0].strip()
    for line in Path(__file__).with_name("requirements.txt").read_text().splitlines()
    if line.split("#")[0].strip()
]

setup(
    name="sophos-ppu",
    version="18.0.1.1.0",
    description="Sophos pay-per-use consumption file reader and checker",
    license="LGPL-3.0-or-later",
    python_requires=">=3.10",
    packages=[
        "sophos_ppu",
        "sophos_ppu.core",
        "sophos_ppu.core.formats",
        "sophos_ppu.core.formats.xlsx",
    ],
    install_requires=REQUIREMENTS,
    entry_points={
        "console_scripts": ["sophos-ppu-check = sophos_ppu.core.cli:main"],
    },
)
