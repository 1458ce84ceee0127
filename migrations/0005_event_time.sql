-- An event's time is when it is written, not when its transaction began: an
-- account.closed event written after the close waited for the account row
-- must not appear to precede the postings it waited for.
alter table events alter column created_at set default clock_timestamp();
