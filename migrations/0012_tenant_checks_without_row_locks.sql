-- A transfer's accounts, and an entry's account, belong to the row's tenant
-- (0007), and an entry's transfer exists. Foreign keys checked that one row at
-- a time, each check a query of its own that took a share lock on the row it
-- found: per transfer accepted, a write to each account's row and to the WAL,
-- and a multixact whenever the web's acceptance and the worker's settlement
-- held one account at once. The rows those locks protected can neither go nor
-- change: accounts and transfers are never deleted, and from here on their
-- ids, tenants and a transfer's accounts are fixed, and neither table can be
-- truncated. So the same checks now run once per statement, over every row
-- it inserted, without locks, and answer foreign_key_violation as the keys
-- did. The entry's check now also requires its transfer to be of its tenant,
-- which the key it replaces did not.
--
-- A session plans each check once, perhaps while the tables are small, and
-- keeps the plan. So each check first looks up the rows its statement names
-- by their ids (`= any`, with sequential scans off) and compares with those
-- alone: however the tables grow, it reads no other row.
--
-- Running processes read and write nothing different. Dropping the keys
-- locks transfers, entries and accounts for a moment.

create function forbid_key_change() returns trigger
language plpgsql as $$
begin
  raise exception 'the % of a row of % cannot change', tg_argv[0], tg_table_name
    using errcode = 'insufficient_privilege';
end;
$$;

create trigger accounts_key_fixed before update of id, tenant_id on accounts
  for each row
  when (new.id is distinct from old.id or new.tenant_id is distinct from old.tenant_id)
  execute function forbid_key_change('id or tenant');

create trigger accounts_no_truncate before truncate on accounts
  for each statement execute function forbid_change();

create trigger transfers_key_fixed
  before update of id, tenant_id, source_account_id, destination_account_id on transfers
  for each row
  when (new.id is distinct from old.id
    or new.tenant_id is distinct from old.tenant_id
    or new.source_account_id is distinct from old.source_account_id
    or new.destination_account_id is distinct from old.destination_account_id)
  execute function forbid_key_change('id, tenant or accounts');

create trigger transfers_no_truncate before truncate on transfers
  for each statement execute function forbid_change();

create function transfers_accounts_of_tenant() returns trigger
language plpgsql
set enable_seqscan = off
set jit = off
as $$
begin
  if exists (
    with found as materialized (
      select a.id, a.tenant_id from accounts a
      where a.id = any(array(
        select t.source_account_id from inserted t
        union all
        select t.destination_account_id from inserted t))
    )
    select 1 from inserted t
    where not exists (select 1 from found f
        where f.id = t.source_account_id and f.tenant_id = t.tenant_id)
      or not exists (select 1 from found f
        where f.id = t.destination_account_id and f.tenant_id = t.tenant_id)
  ) then
    raise exception 'a transfer names an account that is not its tenant''s'
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end;
$$;

create trigger transfers_accounts_of_tenant after insert on transfers
  referencing new table as inserted
  for each statement execute function transfers_accounts_of_tenant();

create function entries_references_of_tenant() returns trigger
language plpgsql
set enable_seqscan = off
set jit = off
as $$
begin
  if exists (
    with found_accounts as materialized (
      select a.id, a.tenant_id from accounts a
      where a.id = any(array(select e.account_id from inserted e))
    ), found_transfers as materialized (
      select t.id, t.tenant_id from transfers t
      where t.id = any(array(select e.transfer_id from inserted e))
    )
    select 1 from inserted e
    where not exists (select 1 from found_accounts a
        where a.id = e.account_id and a.tenant_id = e.tenant_id)
      or not exists (select 1 from found_transfers t
        where t.id = e.transfer_id and t.tenant_id = e.tenant_id)
  ) then
    raise exception 'an entry names an account or transfer that is not its tenant''s'
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end;
$$;

create trigger entries_references_of_tenant after insert on entries
  referencing new table as inserted
  for each statement execute function entries_references_of_tenant();

alter table transfers
  drop constraint transfers_source_of_tenant,
  drop constraint transfers_destination_of_tenant;

alter table entries
  drop constraint entries_account_of_tenant,
  drop constraint entries_transfer_id_fkey;
