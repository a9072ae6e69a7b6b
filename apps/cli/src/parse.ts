import { InvalidArgumentError } from 'commander';
import { MIN_TIMESTAMP_YEAR, readTimestamp } from '@roster/core/timestamp';

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value))
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** `--cleanup-after-days 30` or `--cleanup-after-days off` (commander drops a parsed null, so 'off' stays a string). */
export function daysOrOff(value: string): number | 'off' {
  if (value === 'off') return 'off';
  return wholeNumber(1, 3650)(value);
}

/** `90d` (days) or `12w` (weeks) to a number of days. */
export function lifetimeInDays(value: string): number {
  const match = /^(\d+)([dw])$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected a duration like 90d or 12w');
  const days = Number(match[1]) * (match[2] === 'w' ? 7 : 1);
  if (days < 1 || days > 3650) throw new InvalidArgumentError('expected from 1 day to 3650 days');
  return days;
}

/**
 * An RFC 3339 timestamp read as the server reads it (core's readTimestamp: no February 30th, no
 * year 0), or a duration back from now: `24h`, `7d`, `30m`.
 */
export function sinceInstant(value: string): string {
  const match = /^(\d+)([mhd])$/.exec(value);
  if (match) {
    const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
    const at = new Date(Date.now() - Number(match[1]) * unitMs);
    if (at.getUTCFullYear() < MIN_TIMESTAMP_YEAR || Number.isNaN(at.getTime()))
      throw new InvalidArgumentError(`${value} reaches back before the year ${MIN_TIMESTAMP_YEAR}`);
    return at.toISOString();
  }
  const at = readTimestamp(value);
  if (!at)
    throw new InvalidArgumentError(
      'expected an RFC 3339 date-time that exists (like 2024-02-29T12:00:00Z) or a duration like 24h or 7d',
    );
  return at.toISOString();
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
