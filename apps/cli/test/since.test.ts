// `--since` is read as the server reads timestamps: an impossible date is refused at once, with a
// usage error, instead of being rolled over (2024-02-30 as March 1st) or crashing.
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { sinceInstant } from '../src/parse.js';

describe('--since', () => {
  it.each([
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['2024-02-29T12:00:00+02:00', '2024-02-29T10:00:00.000Z'],
  ])('reads %s', (value, iso) => {
    expect(sinceInstant(value)).toBe(iso);
  });

  it.each([
    '2024-02-30T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '99999999999d',
    'soon',
  ])('refuses %s as a usage error', (value) => {
    expect(() => sinceInstant(value)).toThrow(InvalidArgumentError);
  });
});
