from . import test_product
from . import test_import_wizard
from . import test_import_pricing
from . import test_import_matching
from . import test_import_invoices
from . import test_import_duplicates
