from . import sophos_ppu_import_wizard
