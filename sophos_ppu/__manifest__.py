# Copyright 2026 sophos_ppu developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Sophos Pay-Per-Use",
    "summary": "Sell Sophos MSP Flex through the reseller shop and bill it "
    "monthly from the Sophos consumption file",
    "version": "18.0.1.4.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "sophos_ppu developers",
    "website": "https://github.com/sophos-ppu/sophos_ppu",
    "depends": [
        "account",
        "mail",
        "portal",
        "queue_job",
        "sale_management",
        "website_sale",
    ],
    "external_dependencies": {
        "python": ["pandas", "python_calamine", "xlrd", "openupgradelib"],
    },
    "data": [
        "security/sophos_ppu_security.xml",
        "security/ir.model.access.csv",
        "data/product_data.xml",
        "data/mail_template_order.xml",
        "data/ir_sequence_data.xml",
        "data/queue_job_data.xml",
        "data/queue_job_posting_data.xml",
        "data/mail_template_import.xml",
        "data/mail_template_portal.xml",
        "views/product_template_views.xml",
        "views/res_config_settings_views.xml",
        "views/sophos_ppu_subscription_views.xml",
        "views/sale_order_views.xml",
        "views/res_partner_views.xml",
        "views/product_pricelist_views.xml",
        "views/website_sale_templates.xml",
        "report/ppu_month_close.xml",
        "report/ppu_end_customer_statement.xml",
        "views/sophos_ppu_import_views.xml",
        "views/account_move_views.xml",
        "views/portal_templates.xml",
        "wizards/sophos_ppu_import_wizard.xml",
        "wizards/sophos_ppu_vendor_bill_link.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/sophos_ppu_demo.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "sophos_ppu/static/src/js/ppu_end_customer.js",
            "sophos_ppu/static/src/js/ppu_cart_notification.js",
        ],
        "web.assets_backend": [
            "sophos_ppu/static/src/js/ppu_import_progress.js",
        ],
        "web.assets_tests": [
            "sophos_ppu/static/src/js/tours/*.js",
        ],
    },
    "installable": True,
    "application": False,
}
