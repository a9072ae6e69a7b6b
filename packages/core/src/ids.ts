/** A canonical UUID (what PostgreSQL's uuid type accepts without error). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID_PATTERN.test(value);

/** A page size: whole, from 1 to `max`; anything unusable (NaN, fractions) falls back or is cut. */
export function clampLimit(requested: number | undefined, fallback: number, max: number): number {
  const whole =
    requested === undefined || !Number.isFinite(requested) ? fallback : Math.trunc(requested);
  return Math.max(1, Math.min(whole, max));
}
