from . import product_pricelist
from . import product_pricelist_item
from . import product_template
from . import res_company
from . import res_config_settings
from . import sophos_ppu_subscription
from . import res_partner
