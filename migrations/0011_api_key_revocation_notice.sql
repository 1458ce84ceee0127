-- Web processes cache API key look-ups for a few seconds. So that a revoked
-- key stops working at once, however it was revoked (the CLI, or an UPDATE
-- by hand), the revocation notifies them, with the key's id, when its
-- transaction commits. A process that is not listening at that moment still
-- drops the key when its cache entry expires.

create function api_key_revoked_notice() returns trigger
language plpgsql as $$
begin
  perform pg_notify('api_key_revoked', new.id);
  return null;
end;
$$;

create trigger api_keys_revoked_notice
  after update of revoked_at on api_keys
  for each row
  when (old.revoked_at is null and new.revoked_at is not null)
  execute function api_key_revoked_notice();
