-- Settling a transfer changed its status, which three indexes of transfers
-- named (the two of pending transfers, by their predicates, and the one that
-- holds a key to one live attempt). So every settlement was an update that
-- PostgreSQL could not make in place: it wrote a new entry into each of the
-- table's indexes, six per transfer posted, a fifth of the index entries and
-- WAL of the whole path from acceptance to settlement.
--
-- The pending transfers now have a table of their own, `pending_transfers`:
-- a row per transfer whose status is `pending`, added when the transfer is
-- inserted and removed when its status changes, by triggers of transfers, so
-- that no way of writing a transfer can leave the two out of step. The
-- workers find a partition's pending transfers in its primary key (partition,
-- seq), the sweeper the oldest in its index of `created_at`. The index of
-- live attempts names `failed_at` instead of the status: the same rows, as a
-- failed attempt, and only it, has a `failed_at` (`transfers_final_state`).
-- Posting then changes no indexed column, and where the row's page has room
-- for its new version PostgreSQL writes it there, without new index entries
-- (a heap-only update). A worker settles a page's transfers together, in one
-- transaction, so each page is filled only half by acceptance (fillfactor 50,
-- for pages written from here on), leaving a version's room per row; the old
-- versions are pruned from the page later. A page had about as much room
-- before, taken instead by the new versions that went elsewhere.
--
-- A final status is final: a transfer that has left `pending` cannot return
-- to it (it would not be queued again), nor change to the other.
--
-- Rebuilding the indexes and filling the new table lock transfers until done:
-- run it when the load is light. Stop the worker processes of the earlier
-- version first: they look for pending transfers through the indexes dropped
-- here, and without them would scan the table.

-- No transfer may be written between the copy of the pending ones below and
-- the triggers that take over from it: writers wait until this commits.
lock table transfers in share row exclusive mode;

create table pending_transfers (
  partition    integer not null,
  seq          bigint not null,
  transfer_id  text not null unique,
  created_at   timestamptz not null,
  primary key (partition, seq)
);

create index pending_transfers_age on pending_transfers (created_at);

insert into pending_transfers (partition, seq, transfer_id, created_at)
select partition, seq, id, created_at from transfers where status = 'pending';

create function transfers_queue_pending() returns trigger
language plpgsql
set jit = off
as $$
begin
  insert into pending_transfers (partition, seq, transfer_id, created_at)
  select t.partition, t.seq, t.id, t.created_at from inserted t where t.status = 'pending';
  return null;
end;
$$;

create trigger transfers_queue_pending after insert on transfers
  referencing new table as inserted
  for each statement execute function transfers_queue_pending();

-- Each row is found by its key, however few rows the statistics of the
-- moment expect: a session plans this once and keeps the plan.
create function transfers_unqueue_final() returns trigger
language plpgsql
set enable_seqscan = off
set jit = off
as $$
begin
  delete from pending_transfers q
  where q.transfer_id = any(array(select t.id from changed t where t.status <> 'pending'));
  return null;
end;
$$;

create trigger transfers_unqueue_final after update on transfers
  referencing new table as changed
  for each statement execute function transfers_unqueue_final();

-- What the queue copies of a transfer is fixed, as its id and accounts are
-- (0012): a queue row with another partition, sequence number or time would
-- be looked for in the wrong place.
create trigger transfers_queue_keys_fixed
  before update of partition, seq, created_at on transfers
  for each row
  when (new.partition is distinct from old.partition
    or new.seq is distinct from old.seq
    or new.created_at is distinct from old.created_at)
  execute function forbid_key_change('partition, sequence number or acceptance time');

create function forbid_status_change() returns trigger
language plpgsql as $$
begin
  raise exception 'transfer % is % and its status cannot change', old.id, old.status
    using errcode = 'check_violation';
end;
$$;

create trigger transfers_final_is_final before update of status on transfers
  for each row
  when (old.status <> 'pending' and new.status is distinct from old.status)
  execute function forbid_status_change();

drop index transfers_pending;
drop index transfers_pending_age;
drop index transfers_one_live_attempt;

create unique index transfers_one_live_attempt
  on transfers (idempotency_key_id, (case when failed_at is not null then id end))
  nulls not distinct
  where idempotency_key_id is not null;

alter table transfers set (fillfactor = 50);
