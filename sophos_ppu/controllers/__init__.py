from . import main
from . import import_report
from . import portal
from . import portal_statement
