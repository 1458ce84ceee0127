import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eventView, getEvent, pageEvents } from '../../services/events.js';
import { noQuery } from '../middleware/no-query.js';
import { actorOf, listBody } from '../request.js';
import { errorResponses, idParam } from '../schemas/common.js';
import { Event, EventFeedQuery, EventList } from '../schemas/events.js';
import type { AppEnv, Deps } from '../types.js';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

const list = createRoute({
  method: 'get',
  path: '/v1/events',
  tags: ['events'],
  summary: 'Read the event feed, oldest first',
  description:
    'Every event of the tenant in sequence order, oldest first: unlike other lists, this ' +
    'is a feed. Pass the last event id (or sequence number) seen as `after` (or ' +
    '`starting_after`, or `next_cursor`) to read on; a receiver that missed deliveries ' +
    'catches up here.',
  request: { query: EventFeedQuery },
  responses: { 200: { description: 'A page of events', ...json(EventList) }, ...errorResponses },
});

const read = createRoute({
  method: 'get',
  middleware: [noQuery],
  path: '/v1/events/{id}',
  tags: ['events'],
  summary: 'Read an event',
  request: { params: idParam('evt') },
  responses: { 200: { description: 'The event', ...json(Event) }, ...errorResponses },
});

export function registerEventRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(list, async (c) => {
    const { starting_after: startingAfter, ...query } = c.req.valid('query');
    const page = await pageEvents(deps.sql, actorOf(c).tenantId, {
      ...query,
      after: query.after ?? startingAfter,
      cursorField: query.after === undefined ? 'starting_after' : 'after',
    });
    return c.json(listBody(page, eventView), 200);
  });

  app.openapi(read, async (c) => {
    const event = await getEvent(deps.sql, actorOf(c).tenantId, c.req.valid('param').id);
    return c.json(eventView(event), 200);
  });
}
