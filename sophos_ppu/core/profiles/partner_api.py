"""The Sophos Partner API's export (billing usage endpoint): the monthly
workbook's data under the API's own field names.

Its camelCase names (``endUserId``, ``startDate``, ``productDescription``,
``productName``, ``totalQuantity``, ``productCode``, ``partnerId``...)
mostly reduce to the workbook's headers, so the profile extends the
workbook's: a file mixing both spellings reads as before. It adds the
API's own names: ``customerId`` for the end user, and the price objects
flattened to ``unitPrice.amount`` / ``unitPrice.currency``. The API writes
one column per price and currency ("unitPrice.EUR"): the currency named in
the header becomes the currency of every row (:mod:`..columns`).
"""

from .sophos import SOPHOS

PARTNER_API = SOPHOS.extend(
    "partner_api",
    end_user_identifier=("customerIdentifier", "customerId"),
    unit_msrp=("unitMsrp.amount", "msrp.amount"),
    unit_cost=("unitPrice.amount",),
    file_currency=(
        "unitPrice.currency",
        "unitMsrp.currency",
        "price.currency",
        "msrp.currency",
    ),
)
