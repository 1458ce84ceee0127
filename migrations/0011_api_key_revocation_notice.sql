-- Web processes cache API key look-ups for a few seconds. So that a revoked
-- key stops working at once, whether it was revoked by the CLI, by an UPDATE
-- of revoked_at by hand, or deleted, the change notifies them, with the
-- key's id, when its transaction commits. A process that is not listening at
-- that moment still drops the key when its cache entry expires.

create function api_key_revoked_notice() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    perform pg_notify('api_key_revoked', old.id);
  else
    perform pg_notify('api_key_revoked', new.id);
  end if;
  return null;
end;
$$;

create trigger api_keys_revoked_notice
  after update of revoked_at on api_keys
  for each row
  when (old.revoked_at is null and new.revoked_at is not null)
  execute function api_key_revoked_notice();

create trigger api_keys_deleted_notice
  after delete on api_keys
  for each row
  execute function api_key_revoked_notice();
