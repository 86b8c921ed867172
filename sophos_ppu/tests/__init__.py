from . import test_product
from . import test_pricing
from . import test_sale_order
from . import test_shop_tour
