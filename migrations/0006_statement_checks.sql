-- Lets a statement check its own effects and fail, rolling back, when they
-- are not what its caller decided: a statement whose COMMIT travels with it
-- cannot be checked by the caller before the commit.
create function fail_unless(holds boolean, message text) returns boolean
language plpgsql volatile as $$
begin
  if holds is not true then
    raise exception using message = message, errcode = 'XX000';
  end if;
  return true;
end
$$;
