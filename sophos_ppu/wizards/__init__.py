from . import sophos_ppu_import_wizard
from . import sophos_ppu_vendor_bill_link
from . import validate_account_move
