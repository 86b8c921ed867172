from . import test_product
from . import test_pricing
