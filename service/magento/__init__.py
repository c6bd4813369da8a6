"""Adobe Commerce (Magento 2) REST compatibility: `/rest/V1/...` and `/rest/{store_code}/V1/...`."""
