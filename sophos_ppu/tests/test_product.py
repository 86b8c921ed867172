# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestServiceProduct(TransactionCase):
    def test_install_creates_published_ppu_service_at_price_zero(self):
        product = self.env.ref("sophos_ppu.product_sophos_cybersecurity")
        self.assertEqual(product.name, "Sophos CyberSecurity")
        self.assertTrue(product.ppu_ok)
        self.assertEqual(product.type, "service")
        self.assertEqual(product.list_price, 0.0)
        self.assertTrue(product.is_published)
        self.assertTrue(product.sale_ok)

    def test_product_name_is_translatable(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        product = self.env.ref("sophos_ppu.product_sophos_cybersecurity")
        product.with_context(lang="fr_FR").name = "Sophos Cybersécurité"
        self.assertEqual(
            product.with_context(lang="fr_FR").name, "Sophos Cybersécurité"
        )
        self.assertEqual(
            product.with_context(lang="en_US").name, "Sophos CyberSecurity"
        )

    def test_product_data_is_noupdate(self):
        data = self.env["ir.model.data"].search(
            [
                ("module", "=", "sophos_ppu"),
                ("name", "=", "product_sophos_cybersecurity"),
            ]
        )
        self.assertTrue(data.noupdate)


@tagged("post_install", "-at_install")
class TestSettings(TransactionCase):
    def test_ops_recipients_are_set_per_company_in_settings(self):
        ops = self.env["res.partner"].create(
            {"name": "Ops", "email": "ops@example.com"}
        )
        settings = self.env["res.config.settings"].create({})
        settings.ppu_ops_partner_ids = ops
        settings.execute()
        self.assertEqual(self.env.company.ppu_ops_partner_ids, ops)
