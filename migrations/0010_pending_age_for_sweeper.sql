-- The sweeper finds transfers left pending too long through
-- transfers_pending_age. Its predicate named only the status, so the apply
-- statements could use it as well: with statistics taken while almost
-- nothing was pending, a plan read every pending transfer through it instead
-- of one partition's batch through transfers_pending. The index now also
-- names `attempt > 0`, true of every transfer (attempts start at 1) but stated
-- only by the sweeper's query, so that no other statement can use it.
--
-- Rebuilding the index locks transfers until it is built, as 0009 does: run
-- it when the load is light.

drop index transfers_pending_age;

create index transfers_pending_age on transfers (created_at)
  where status = 'pending' and attempt > 0;
