-- Balances and limits stay within the integers JSON carries exactly
-- (|x| <= 2^53-1), which also keeps every sum of two of them inside bigint.
alter table accounts
  add constraint accounts_balance_json_safe check (balance <= 9007199254740991),
  add constraint accounts_overdraft_json_safe check (overdraft_limit <= 9007199254740991);
