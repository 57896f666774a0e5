-- Control data, version 3: subscription billing. Kept with the tenants directory because a
-- provider's webhook names a customer, not a tenant, and must find the organisation from it.
-- One account per organisation, created when billing first looks at it.
CREATE TABLE nexus_control.billing_accounts (
    tenant_id uuid PRIMARY KEY REFERENCES nexus_control.tenants (id) ON DELETE CASCADE,
    plan text NOT NULL,
    status text NOT NULL,
    currency text NOT NULL,
    provider text,
    channel text,
    customer_ref text,
    subscription_ref text,
    trial_ends_at bigint,
    past_due_since bigint,
    -- When the latest provider event applied happened (the provider's clock); older ones
    -- arriving late change nothing.
    state_at bigint NOT NULL,
    -- The last closed month whose usage was reported and invoiced.
    settled_through text,
    updated_at bigint NOT NULL
);
CREATE UNIQUE INDEX billing_accounts_customer ON nexus_control.billing_accounts (provider, customer_ref);

-- Every provider event taken, so a replayed or redelivered one is recognised.
CREATE TABLE nexus_control.billing_events (
    provider text NOT NULL,
    event_id text NOT NULL,
    kind text NOT NULL,
    tenant_id uuid,
    outcome text NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- Usage sent to a provider, one row per organisation, meter and month (the identifier).
CREATE TABLE nexus_control.billing_usage_reports (
    identifier text PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES nexus_control.tenants (id) ON DELETE CASCADE,
    meter text NOT NULL,
    period text NOT NULL,
    value bigint NOT NULL,
    reported_at bigint NOT NULL
);

-- Invoices are Nexus's own; the provider only collects them.
CREATE TABLE nexus_control.billing_invoices (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES nexus_control.tenants (id) ON DELETE CASCADE,
    reference text NOT NULL UNIQUE,
    period text NOT NULL,
    plan text NOT NULL,
    currency text NOT NULL,
    plan_minor bigint NOT NULL,
    over_minor bigint NOT NULL,
    amount_minor bigint NOT NULL,
    status text NOT NULL,
    provider text NOT NULL,
    pay_url text,
    created_at bigint NOT NULL,
    due_at bigint NOT NULL,
    paid_at bigint
);
CREATE INDEX billing_invoices_tenant ON nexus_control.billing_invoices (tenant_id, created_at);
