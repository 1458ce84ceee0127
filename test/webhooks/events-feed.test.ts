import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents } from '../../src/data/events.js';
import { sequenceEvents } from '../../src/services/event-sequencer.js';
import { call, newTenant, type TestApp } from '../support/app.js';
import { appendTestEvents, startIsolatedApp } from './support.js';

interface EventAnswer {
  id: string;
  object: string;
  type: string;
  sequence: number;
  created_at: string;
  data: Record<string, unknown>;
}

interface Feed {
  data: EventAnswer[];
  has_more: boolean;
  next_cursor: string | null;
}

describe('GET /v1/events', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startIsolatedApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('walks every event exactly once, in order, even while events are written', async () => {
    const tenant = await newTenant(app.sql);
    await appendTestEvents(app.sql, tenant.tenantId, 5);

    // Writers keep appending, in parallel transactions, while the reader walks.
    let writing = true;
    const writers = Promise.all(
      [1, 2, 3].map(async () => {
        for (let i = 0; i < 8; i++) await appendTestEvents(app.sql, tenant.tenantId, 2);
      }),
    ).finally(() => {
      writing = false;
    });

    const seen: EventAnswer[] = [];
    let cursor: string | undefined;
    for (;;) {
      const query = cursor ? `?limit=4&after=${cursor}` : '?limit=4';
      const page = await call<Feed>(app, 'GET', `/v1/events${query}`, { key: tenant.key });
      expect(page.status).toBe(200);
      seen.push(...page.body.data);
      const last = page.body.data.at(-1);
      if (last) cursor = last.id;
      if (!page.body.has_more && !writing) break;
      if (page.body.has_more) expect(page.body.next_cursor).toBe(last?.id);
    }
    await writers;
    const tail = await call<Feed>(app, 'GET', `/v1/events?limit=100&after=${cursor}`, {
      key: tenant.key,
    });
    seen.push(...tail.body.data);

    const total = 5 + 3 * 8 * 2;
    expect(seen).toHaveLength(total);
    expect(seen.map((event) => event.sequence)).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );
    expect(new Set(seen.map((event) => event.id)).size).toBe(total);
  });

  it('takes a sequence number as cursor, filters by type, and reads one event', async () => {
    const tenant = await newTenant(app.sql);
    await appendTestEvents(app.sql, tenant.tenantId, 3, 'transfer.posted');
    const [failed] = await appendTestEvents(app.sql, tenant.tenantId, 1, 'transfer.failed');
    await appendTestEvents(app.sql, tenant.tenantId, 2, 'transfer.posted');

    const after = await call<Feed>(app, 'GET', '/v1/events?after=4', { key: tenant.key });
    expect(after.body.data.map((event) => event.sequence)).toEqual([5, 6]);
    expect(after.body).toMatchObject({ has_more: false, next_cursor: null });

    const first = await call<Feed & { next_cursor: string }>(app, 'GET', '/v1/events?limit=2', {
      key: tenant.key,
    });
    const second = await call<Feed>(
      app,
      'GET',
      `/v1/events?limit=2&starting_after=${first.body.next_cursor}`,
      { key: tenant.key },
    );
    expect(second.body.data.map((event) => event.sequence)).toEqual([3, 4]);
    const both = await call<{ errors: unknown[] }>(
      app,
      'GET',
      `/v1/events?after=4&starting_after=${first.body.next_cursor}`,
      { key: tenant.key },
    );
    expect(both.status).toBe(422);
    const unknown = await call<{ errors: { field: string }[] }>(
      app,
      'GET',
      '/v1/events?starting_after=evt_names_nothing',
      { key: tenant.key },
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors.map((error) => error.field)).toEqual(['starting_after']);
    expect(both.body.errors).toEqual([
      { field: 'starting_after', message: 'give either after or starting_after, not both' },
    ]);

    const typed = await call<Feed>(app, 'GET', '/v1/events?type=transfer.failed', {
      key: tenant.key,
    });
    expect(typed.body.data.map((event) => event.id)).toEqual([failed?.id]);

    const one = await call<EventAnswer>(app, 'GET', `/v1/events/${failed?.id}`, {
      key: tenant.key,
    });
    expect(one.body).toEqual({
      id: failed?.id,
      object: 'event',
      type: 'transfer.failed',
      sequence: 4,
      created_at: failed?.createdAt.toISOString(),
      data: { id: 'tr_test0', object: 'transfer', amount: 1 },
    });
    const bad = await call(app, 'GET', '/v1/events?type=transfer.lost', { key: tenant.key });
    expect(bad.status).toBe(422);
  });

  it('keeps the keys of event data exactly as they were written', async () => {
    const tenant = await newTenant(app.sql);
    const [event] = (await app.sql.begin((tx) =>
      appendEvents(tx, tenant.tenantId, [
        { type: 'account.closed', data: { overdraft_limit: 0, metadata: { order_ref: 'x' } } },
      ]),
    )) as { id: string }[];
    const one = await call<EventAnswer>(app, 'GET', `/v1/events/${event?.id}`, {
      key: tenant.key,
    });
    expect(one.body.data).toEqual({ overdraft_limit: 0, metadata: { order_ref: 'x' } });
  });

  it('numbers each event once, in order, however many sequencers run at once', async () => {
    const tenant = await newTenant(app.sql);
    let writing = true;
    const writers = Promise.all(
      [1, 2, 3, 4].map(async () => {
        for (let i = 0; i < 10; i++) await appendTestEvents(app.sql, tenant.tenantId, 3);
      }),
    ).finally(() => {
      writing = false;
    });
    const sequencers = Promise.all(
      [1, 2, 3].map(async () => {
        while (writing) await sequenceEvents(app.sql);
        await sequenceEvents(app.sql);
      }),
    );
    await Promise.all([writers, sequencers]);
    await sequenceEvents(app.sql);

    const numbers = await app.sql<{ seq: bigint; queued: bigint }[]>`
      select n.seq, q.position as queued
      from event_numbers n join events e on e.id = n.event_id
      left join event_sequencing q on q.event_id = e.id
      where e.tenant_id = ${tenant.tenantId} order by n.seq`;
    expect(numbers.map((row) => Number(row.seq))).toEqual(
      Array.from({ length: 4 * 10 * 3 }, (_, i) => i + 1),
    );
    expect(numbers.every((row) => row.queued === null)).toBe(true);
  });

  it('keeps the number of an event queued again, and numbers the events behind it', async () => {
    const tenant = await newTenant(app.sql);
    const [first] = await appendTestEvents(app.sql, tenant.tenantId, 1);
    await sequenceEvents(app.sql);
    await app.sql`
      insert into event_sequencing (event_id, tenant_id, type)
      values (${first?.id ?? ''}, ${tenant.tenantId}, 'transfer.posted')`;
    const [second] = await appendTestEvents(app.sql, tenant.tenantId, 1);

    expect(await sequenceEvents(app.sql)).toBe(1);
    const feed = await call<Feed>(app, 'GET', '/v1/events', { key: tenant.key });
    expect(feed.body.data.map((event) => [event.id, event.sequence])).toEqual([
      [first?.id, 1],
      [second?.id, 2],
    ]);
    const [queued] = await app.sql<{ n: bigint }[]>`
      select count(*) as n from event_sequencing where tenant_id = ${tenant.tenantId}`;
    expect(queued?.n).toBe(0n);
  });

  it('serves what is numbered while numbering fails, and numbers the rest after', async () => {
    const tenant = await newTenant(app.sql);
    await appendTestEvents(app.sql, tenant.tenantId, 2);
    await sequenceEvents(app.sql);
    await app.sql`
      create function refuse_numbers() returns trigger language plpgsql as $$
      begin raise exception 'numbering refused'; end $$`;
    await app.sql`
      create trigger refuse_numbers before insert on event_numbers
      for each row execute function refuse_numbers()`;
    try {
      await appendTestEvents(app.sql, tenant.tenantId, 1);
      await expect(sequenceEvents(app.sql)).rejects.toThrow(/numbering refused/);
      const stale = await call<Feed>(app, 'GET', '/v1/events', { key: tenant.key });
      expect(stale.status).toBe(200);
      expect(stale.body.data.map((event) => event.sequence)).toEqual([1, 2]);
    } finally {
      await app.sql`drop trigger refuse_numbers on event_numbers`;
      await app.sql`drop function refuse_numbers()`;
    }
    const fresh = await call<Feed>(app, 'GET', '/v1/events', { key: tenant.key });
    expect(fresh.body.data.map((event) => event.sequence)).toEqual([1, 2, 3]);
  });

  it('shows a number filed under another tenant or type than its event in no feed', async () => {
    const owner = await newTenant(app.sql);
    const other = await newTenant(app.sql);
    const [event] = await app.sql<{ id: string }[]>`
      insert into events (id, tenant_id, type, data)
      values ('evt_misfiled', ${owner.tenantId}, 'transfer.posted', '{"secret":1}') returning id`;
    await app.sql`
      insert into event_numbers (tenant_id, seq, event_id, type)
      values (${other.tenantId}, 1, ${event?.id ?? ''}, 'account.closed')`;

    for (const query of ['', '?type=account.closed', '?type=transfer.posted']) {
      const feed = await call<Feed>(app, 'GET', `/v1/events${query}`, { key: other.key });
      expect(feed.body.data).toEqual([]);
    }
    const own = await call<EventAnswer>(app, 'GET', '/v1/events/evt_misfiled', {
      key: owner.key,
    });
    expect(own.body).toMatchObject({ id: 'evt_misfiled', type: 'transfer.posted', sequence: null });
    const foreign = await call(app, 'GET', '/v1/events/evt_misfiled', { key: other.key });
    expect(foreign.status).toBe(404);
  });
});
