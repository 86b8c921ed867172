from . import main
from . import import_report
