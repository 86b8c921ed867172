"""Command-line options the scripts share."""

import argparse


def month_parser(doc, rows):
    """A script's parser (described by the first line of its ``doc``) with
    the size of the benchmarks' month (``ppu_tools.month_data``): rows of
    the file (default ``rows``), resellers, end customers per reseller."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--resellers", type=int, default=500)
    parser.add_argument("--customers", type=int, default=20, help="per reseller")
    return parser
