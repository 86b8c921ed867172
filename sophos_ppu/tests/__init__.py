from . import test_product
