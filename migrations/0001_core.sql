-- Core ledger schema: tenants, API keys, accounts, transfers, idempotency keys,
-- ledger entries, the event outbox and the audit log. Money is bigint minor units.

create function forbid_change() returns trigger
language plpgsql as $$
begin
  raise exception '% is append-only: % refused', tg_table_name, tg_op
    using errcode = 'insufficient_privilege';
end;
$$;

create table tenants (
  id          text primary key,
  name        text not null,
  -- Last per-tenant event sequence number handed out. Taken with a row lock
  -- in the transaction that writes the event, so numbers commit in order.
  event_seq   bigint not null default 0,
  created_at  timestamptz not null default now()
);

create table api_keys (
  id          text primary key,
  tenant_id   text not null references tenants (id),
  key_hash    text not null unique,
  prefix      text not null,
  created_at  timestamptz not null default now(),
  revoked_at  timestamptz
);
create index api_keys_tenant on api_keys (tenant_id);

create table accounts (
  id               text primary key,
  seq              bigserial not null unique,
  tenant_id        text not null references tenants (id),
  currency         char(3) not null check (currency ~ '^[A-Z]{3}$'),
  balance          bigint not null default 0,
  overdraft_limit  bigint not null default 0 check (overdraft_limit >= 0),
  reference        text,
  metadata         jsonb not null default '{}',
  version          bigint not null default 0,
  created_at       timestamptz not null default now(),
  closed_at        timestamptz,
  constraint accounts_balance_within_overdraft check (balance >= -overdraft_limit),
  constraint accounts_reference_unique unique (tenant_id, reference)
);
create index accounts_tenant_seq on accounts (tenant_id, seq desc);
create trigger accounts_never_deleted before delete on accounts
  for each row execute function forbid_change();

create table idempotency_keys (
  id               bigserial primary key,
  tenant_id        text not null references tenants (id),
  method           text not null,
  path             text not null,
  key              text not null,
  fingerprint      text not null,
  resource_type    text not null,
  resource_id      text not null,
  response_status  integer not null,
  created_at       timestamptz not null default now(),
  expires_at       timestamptz not null,
  constraint idempotency_keys_scope unique (tenant_id, method, path, key)
);
create index idempotency_keys_expiry on idempotency_keys (expires_at);

create table transfers (
  id                      text primary key,
  -- Acceptance order: workers apply the transfers of a partition by seq.
  seq                     bigserial not null unique,
  tenant_id               text not null references tenants (id),
  source_account_id       text not null references accounts (id),
  destination_account_id  text not null references accounts (id),
  partition               integer not null,
  amount                  bigint not null check (amount > 0),
  currency                char(3) not null,
  description             text,
  metadata                jsonb not null default '{}',
  status                  text not null default 'pending'
                            check (status in ('pending', 'posted', 'failed')),
  failure_code            text,
  idempotency_key_id      bigint references idempotency_keys (id) on delete set null,
  attempt                 integer not null default 1 check (attempt >= 1),
  previous_attempt_id     text references transfers (id),
  created_at              timestamptz not null default clock_timestamp(),
  posted_at               timestamptz,
  failed_at               timestamptz,
  constraint transfers_distinct_accounts check (source_account_id <> destination_account_id),
  constraint transfers_final_state check (
    (status = 'pending' and posted_at is null and failed_at is null and failure_code is null)
    or (status = 'posted' and posted_at is not null and failed_at is null and failure_code is null)
    or (status = 'failed' and failed_at is not null and posted_at is null and failure_code is not null)
  )
);
create index transfers_pending on transfers (partition, seq) where status = 'pending';
create index transfers_pending_age on transfers (created_at) where status = 'pending';
create index transfers_tenant_seq on transfers (tenant_id, seq desc);
create index transfers_source_seq on transfers (source_account_id, seq desc);
create index transfers_destination_seq on transfers (destination_account_id, seq desc);
-- A key maps to at most one transfer that has not failed.
create unique index transfers_one_live_attempt on transfers (idempotency_key_id)
  where status <> 'failed';
create trigger transfers_never_deleted before delete on transfers
  for each row execute function forbid_change();

create table entries (
  id             text primary key,
  seq            bigserial not null unique,
  tenant_id      text not null references tenants (id),
  account_id     text not null references accounts (id),
  transfer_id    text not null references transfers (id),
  -- Signed: negative debits the account, positive credits it.
  amount         bigint not null check (amount <> 0),
  balance_after  bigint not null,
  created_at     timestamptz not null default now(),
  constraint entries_one_per_side unique (transfer_id, account_id)
);
create index entries_account_seq on entries (account_id, seq desc);
create trigger entries_append_only before update or delete on entries
  for each row execute function forbid_change();
create trigger entries_no_truncate before truncate on entries
  for each statement execute function forbid_change();

create table events (
  id          text primary key,
  tenant_id   text not null references tenants (id),
  seq         bigint not null,
  type        text not null,
  data        jsonb not null,
  created_at  timestamptz not null default now(),
  constraint events_tenant_seq unique (tenant_id, seq)
);
create trigger events_append_only before update or delete on events
  for each row execute function forbid_change();
create trigger events_no_truncate before truncate on events
  for each statement execute function forbid_change();

-- Events not yet handed to the webhook dispatcher. Written in the same
-- transaction as the event, deleted once its deliveries exist.
create table event_dispatch (
  event_id    text primary key references events (id),
  tenant_id   text not null,
  created_at  timestamptz not null default now()
);

create table audit_log (
  id             bigserial primary key,
  tenant_id      text references tenants (id),
  actor          text not null,
  action         text not null,
  resource_type  text,
  resource_id    text,
  request_id     text,
  details        jsonb not null default '{}',
  created_at     timestamptz not null default now()
);
create index audit_log_tenant on audit_log (tenant_id, id desc);
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function forbid_change();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function forbid_change();
