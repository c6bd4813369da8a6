-- Adobe Commerce (Magento 2) REST: what Magento knows about a customer and an address besides the
-- Kibo account and contact. A Magento customer IS a customer account and its addresses ARE its
-- contacts; these rows only add Magento's own fields, and go when the account or contact goes.

CREATE TABLE magento_customers (
    tenant_id                  integer  NOT NULL,
    account_id                 integer  NOT NULL,
    store_id                   integer,           -- the site (store view) it was created in; NULL: none
    created_in                 text     NOT NULL, -- that store view's name at the time, as Magento keeps it
    group_id                   integer  NOT NULL DEFAULT 1 CHECK (group_id >= 0),
    disable_auto_group_change  smallint NOT NULL DEFAULT 0 CHECK (disable_auto_group_change IN (0, 1)),
    prefix                     text,
    middlename                 text,
    suffix                     text,
    dob                        date,
    gender                     smallint CHECK (gender >= 0),
    PRIMARY KEY (tenant_id, account_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES customer_accounts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, store_id) REFERENCES sites (tenant_id, id) ON DELETE SET NULL (store_id)
);

CREATE TABLE magento_addresses (
    tenant_id   integer NOT NULL,
    account_id  integer NOT NULL,
    contact_id  integer NOT NULL,
    region_id   integer CHECK (region_id >= 0),
    region      text,   -- the region's name; its code is the contact's stateOrProvince
    prefix      text,
    suffix      text,
    vat_id      text,
    PRIMARY KEY (tenant_id, contact_id),
    FOREIGN KEY (tenant_id, account_id, contact_id)
        REFERENCES customer_contacts (tenant_id, account_id, id) ON DELETE CASCADE
);

-- Magento calls find their tenant by the request's host name (tenant setting hostNames).
CREATE INDEX tenants_by_host_name ON tenants USING gin ((settings -> 'hostNames'));
