-- Webhooks: endpoints a tenant registers, one delivery per (event, endpoint),
-- and every attempt made to deliver it.

create table webhook_endpoints (
  id                          text primary key,
  seq                         bigserial not null unique,
  tenant_id                   text not null references tenants (id),
  url                         text not null,
  description                 text,
  -- Event types the endpoint receives; '*' stands for every type.
  event_types                 text[] not null check (cardinality(event_types) > 0),
  enabled                     boolean not null default true,
  -- Why the endpoint stopped: 'manual' (the tenant), 'gone' (it answered
  -- 410) or 'failing' (every delivery failed for too long).
  disabled_reason             text check (disabled_reason in ('manual', 'gone', 'failing')),
  -- The signing secrets are kept in plaintext because HMAC needs the key
  -- itself; envelope encryption under a KMS key would lift that.
  secret                      text not null,
  previous_secret             text,
  previous_secret_expires_at  timestamptz,
  -- Time of the first failed attempt since the last successful one.
  failing_since               timestamptz,
  created_at                  timestamptz not null default clock_timestamp(),
  updated_at                  timestamptz not null default clock_timestamp(),
  disabled_at                 timestamptz,
  deleted_at                  timestamptz,
  constraint webhook_endpoints_disabled check (
    (enabled and disabled_reason is null and disabled_at is null)
    or (not enabled and disabled_reason is not null and disabled_at is not null)
  )
);
create index webhook_endpoints_tenant_seq on webhook_endpoints (tenant_id, seq desc)
  where deleted_at is null;
create trigger webhook_endpoints_never_deleted before delete on webhook_endpoints
  for each row execute function forbid_change();

create table webhook_deliveries (
  id               text primary key,
  seq              bigserial not null unique,
  tenant_id        text not null references tenants (id),
  endpoint_id      text not null references webhook_endpoints (id),
  event_id         text not null references events (id),
  status           text not null default 'pending'
                     check (status in ('pending', 'succeeded', 'failed')),
  -- Attempts made so far, manual ones included; the next one is number
  -- attempts + 1 and is due at next_attempt_at.
  attempts         integer not null default 0 check (attempts >= 0),
  next_attempt_at  timestamptz,
  -- Why a failed delivery stopped: 'attempts_exhausted', 'endpoint_gone'
  -- or 'endpoint_disabled'.
  failure_reason   text,
  created_at       timestamptz not null default clock_timestamp(),
  updated_at       timestamptz not null default clock_timestamp(),
  completed_at     timestamptz,
  constraint webhook_deliveries_one_per_endpoint unique (event_id, endpoint_id),
  constraint webhook_deliveries_state check (
    (status = 'pending' and next_attempt_at is not null and completed_at is null
      and failure_reason is null)
    or (status = 'succeeded' and next_attempt_at is null and completed_at is not null
      and failure_reason is null)
    or (status = 'failed' and next_attempt_at is null and completed_at is not null
      and failure_reason is not null)
  )
);
create index webhook_deliveries_endpoint_seq on webhook_deliveries (endpoint_id, seq desc);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at)
  where status = 'pending';
create trigger webhook_deliveries_never_deleted before delete on webhook_deliveries
  for each row execute function forbid_change();

create table webhook_attempts (
  id             bigserial primary key,
  delivery_id    text not null references webhook_deliveries (id),
  attempt        integer not null check (attempt >= 1),
  -- True when an operator asked for this attempt by hand.
  manual         boolean not null default false,
  started_at     timestamptz not null,
  duration_ms    integer not null check (duration_ms >= 0),
  succeeded      boolean not null,
  status_code    integer,
  error          text,
  -- The start of the receiver's answer, truncated.
  response_body  text,
  constraint webhook_attempts_once unique (delivery_id, attempt)
);
create trigger webhook_attempts_append_only before update or delete on webhook_attempts
  for each row execute function forbid_change();
create trigger webhook_attempts_no_truncate before truncate on webhook_attempts
  for each statement execute function forbid_change();

create index events_tenant_type_seq on events (tenant_id, type, seq);
