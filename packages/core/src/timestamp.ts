// One strict reading of a timestamp that arrives from outside (a SCIM filter, a list cursor, an
// operator's `since`). JavaScript's Date rolls impossible dates over (2024-02-30 is March 1st) and
// accepts year 0, which PostgreSQL refuses; this accepts only what both read the same way.
import { invalid } from './errors.js';

// RFC 3339 §5.6 date-time, with what PostgreSQL prints for timestamptz too (a space for `T`, an
// offset of hours only); a date alone and a time without an offset are read as UTC.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Earliest and latest years accepted: PostgreSQL has no year 0, RFC 3339 no year above 9999. */
export const MIN_TIMESTAMP_YEAR = 1;
export const MAX_TIMESTAMP_YEAR = 9999;
/** PostgreSQL refuses UTC offsets beyond ±15:59. */
const MAX_OFFSET_HOURS = 15;

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The instant, or undefined when the text is not a timestamp that exists. */
export function readTimestamp(text: string): Date | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset = 'Z'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < MIN_TIMESTAMP_YEAR || year > MAX_TIMESTAMP_YEAR) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // No 24:00 and no leap second: JavaScript and PostgreSQL disagree on both.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (offset !== 'Z' && offset !== 'z') {
    const digits = offset.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const extraMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (offsetHours > MAX_OFFSET_HOURS || extraMinutes > 59) return undefined;
    offsetMinutes = (offset.startsWith('-') ? -1 : 1) * (offsetHours * 60 + extraMinutes);
  }
  const milliseconds = fraction === '' ? 0 : Math.trunc(Number(`0${fraction}`) * 1000);
  const utc = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, milliseconds);
  return new Date(utc.getTime() - offsetMinutes * 60_000);
}

/**
 * Reads an RFC 3339 timestamp strictly: the date must exist (no February 30th), the year is
 * 0001–9999, hours 00–23, minutes and seconds 00–59, an offset at most ±15:59. Anything else is
 * `Invalid`, naming the field and the value.
 *
 * @example
 * parseTimestamp('2024-02-29T12:00:00Z', 'since'); // a Date
 * parseTimestamp('2024-02-30T00:00:00Z', 'since'); // throws Invalid
 */
export function parseTimestamp(text: string, field: string): Date {
  const instant = readTimestamp(text);
  if (instant === undefined)
    throw invalid(
      `${field} must be an RFC 3339 date-time that exists (like 2024-02-29T12:00:00Z), got "${text.slice(0, 64)}"`,
      { field },
    );
  return instant;
}
