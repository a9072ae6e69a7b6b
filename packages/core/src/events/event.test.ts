import { describe, expect, it } from 'vitest';
import { isCoreError } from '../errors.js';
import {
  EVENT_TYPES,
  eventId,
  eventOfChange,
  eventTypeOfChange,
  parseEventId,
  parseEventTypes,
} from './event.js';

const tenantId = '0b7c2f4e-8a1d-4c3b-9e5f-1a2b3c4d5e6f';

describe('event ids', () => {
  it('names the tenant and the seq, and reads back', () => {
    const id = eventId(tenantId, 42);
    expect(id).toBe('evt_0b7c2f4e8a1d4c3b9e5f1a2b3c4d5e6f00000000002a');
    expect(parseEventId(id)).toEqual({ tenantId, seq: 42 });
  });

  it('sorts in seq order within a tenant', () => {
    const ids = [1, 9, 10, 255, 256, 70_000].map((seq) => eventId(tenantId, seq));
    expect([...ids].sort()).toEqual(ids);
  });

  it.each(['', 'evt_', 'evt_xyz', `evt_${'0'.repeat(43)}`, `EVT_${'0'.repeat(44)}`, 'usr_1'])(
    'refuses %j',
    (id) => {
      let error: unknown;
      try {
        parseEventId(id);
      } catch (caught) {
        error = caught;
      }
      expect(isCoreError(error, 'Invalid')).toBe(true);
    },
  );
});

describe('event types', () => {
  it('maps the outbox kinds apps act on, and only those', () => {
    expect(eventTypeOfChange('user.adopted')).toBe('user.updated');
    expect(eventTypeOfChange('user.refreshed_by_sign_in')).toBe('user.updated');
    expect(eventTypeOfChange('user.signed_in')).toBeUndefined();
    expect(eventTypeOfChange('constructor')).toBeUndefined();
    for (const type of EVENT_TYPES) expect(eventTypeOfChange(type)).toBe(type);
  });

  it('expands patterns, in the documented order, without repeats', () => {
    expect(parseEventTypes(['group.members_*', 'user.created', 'user.created'])).toEqual([
      'user.created',
      'group.members_added',
      'group.members_removed',
    ]);
    expect(parseEventTypes(['*'])).toEqual([...EVENT_TYPES]);
    expect(() => parseEventTypes(['user.signed_in'])).toThrow(/unknown event type/);
  });
});

describe('eventOfChange', () => {
  it('names a gone resource by its id', () => {
    const event = eventOfChange(tenantId, {
      seq: 3,
      occurredAt: new Date('2026-12-01T00:00:00Z'),
      kind: 'user.purged',
      entityType: 'user',
      entityId: '7d0e5a9c-2f41-4b8e-a6d3-9c1b2e4f6a80',
      payload: {},
    });
    expect(event).toMatchObject({
      id: eventId(tenantId, 3),
      type: 'user.purged',
      version: 1,
      data: { user: { id: '7d0e5a9c-2f41-4b8e-a6d3-9c1b2e4f6a80' } },
    });
  });

  it('is undefined for a change that is not an event', () => {
    const change = {
      seq: 4,
      occurredAt: new Date(),
      kind: 'user.signed_in',
      entityType: 'user' as const,
      entityId: '7d0e5a9c-2f41-4b8e-a6d3-9c1b2e4f6a80',
      payload: {},
    };
    expect(eventOfChange(tenantId, change)).toBeUndefined();
  });
});
