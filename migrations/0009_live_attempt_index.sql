-- When an idempotency record expires, the sweeper deletes it and PostgreSQL
-- sets the reference of each of its transfers to null (on delete set null),
-- finding them by `idempotency_key_id = $1`. The partial unique index that
-- kept one live attempt per key could not serve that look-up, its predicate
-- naming the status, so every record deleted cost a sequential scan of
-- transfers: hours for one day's records once the table is large.
--
-- The index is rebuilt to lead with the key, so that it serves the look-up,
-- and still to hold a key to one attempt that has not failed: a failed
-- attempt is indexed under its own id, every other under null, and the nulls
-- count as equal. It has as many entries as the index it replaces.

drop index transfers_one_live_attempt;

create unique index transfers_one_live_attempt
  on transfers (idempotency_key_id, (case when status = 'failed' then id end))
  nulls not distinct
  where idempotency_key_id is not null;
