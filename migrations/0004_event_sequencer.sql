-- Per-tenant event sequence numbers are handed out after commit, by one
-- sequencer at a time, instead of inside every transaction that writes an
-- event: those transactions no longer queue on their tenant's counter row.

alter table events alter column seq drop not null;

-- Events written but not yet numbered, in the order they were written.
create table event_sequencing (
  position   bigserial primary key,
  event_id   text not null unique references events (id),
  tenant_id  text not null
);

-- Events stay append-only: their content never changes, and a sequence
-- number is given once, to an event that had none.
create function events_sequence_once() returns trigger
language plpgsql as $$
begin
  if tg_op = 'UPDATE' and old.seq is null and new.seq is not null
     and new.id = old.id and new.tenant_id = old.tenant_id and new.type = old.type
     and new.data = old.data and new.created_at = old.created_at then
    return new;
  end if;
  raise exception 'events is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;

drop trigger events_append_only on events;
create trigger events_append_only before update or delete on events
  for each row execute function events_sequence_once();
