-- An event's sequence number is written once, as a row of a narrow table of
-- its own, instead of by rewriting the event: the sequencer inserts small
-- rows where it used to update wide ones (and every index of events), and
-- events are append-only again, without exception. The queue of events to
-- number carries each event's type, so that the sequencer reads no event.
-- The feed reads a number together with its event, and takes the tenant and
-- type from both, so that a number filed under another tenant or type than
-- its event's shows nowhere.
--
-- Processes of earlier versions read and write events.seq: stop them before
-- this migration runs.

create table event_numbers (
  tenant_id  text not null,
  seq        bigint not null,
  event_id   text not null unique references events (id),
  type       text not null,
  primary key (tenant_id, seq)
);
create index event_numbers_tenant_type_seq on event_numbers (tenant_id, type, seq);

insert into event_numbers (tenant_id, seq, event_id, type)
select tenant_id, seq, id, type from events where seq is not null;

alter table event_sequencing add column type text;
update event_sequencing q set type = e.type, tenant_id = e.tenant_id
from events e where e.id = q.event_id;
alter table event_sequencing alter column type set not null;

drop trigger events_append_only on events;
drop function events_sequence_once();
drop index events_tenant_type_seq;
alter table events drop constraint events_tenant_seq, drop column seq;
create trigger events_append_only before update or delete on events
  for each row execute function forbid_change();

create trigger event_numbers_append_only before update or delete on event_numbers
  for each row execute function forbid_change();
create trigger event_numbers_no_truncate before truncate on event_numbers
  for each statement execute function forbid_change();
