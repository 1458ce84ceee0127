-- A transfer's accounts, and an entry's account, belong to its tenant: each
-- such reference names the account and the tenant together, so that the
-- database itself refuses a row that would cross tenants. The account's own
-- reference to its tenant makes a separate one from these rows to tenants
-- redundant, so every transfer and entry written checks one reference fewer.

alter table accounts add constraint accounts_id_tenant unique (id, tenant_id);

alter table transfers
  add constraint transfers_source_of_tenant
    foreign key (source_account_id, tenant_id) references accounts (id, tenant_id),
  add constraint transfers_destination_of_tenant
    foreign key (destination_account_id, tenant_id) references accounts (id, tenant_id),
  drop constraint transfers_tenant_id_fkey,
  drop constraint transfers_source_account_id_fkey,
  drop constraint transfers_destination_account_id_fkey;

alter table entries
  add constraint entries_account_of_tenant
    foreign key (account_id, tenant_id) references accounts (id, tenant_id),
  drop constraint entries_tenant_id_fkey,
  drop constraint entries_account_id_fkey;
