// Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"): every
// request carries webhook-id, webhook-timestamp and webhook-signature, an HMAC-SHA256 of
// `${id}.${timestamp}.${body}` keyed by the base64-decoded part of the secret after `whsec_`.
import { createHmac } from 'node:crypto';
import { WEBHOOK_SECRET_PREFIX } from './webhook.js';

/**
 * The `webhook-signature` header value: `v1,<base64 HMAC>` for each secret, space-separated
 * (the specification's list, so that a receiver holding either secret accepts the request
 * during a rotation's overlap).
 *
 * @example
 * signWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_p5jXN8AQM9LWM0D4loKWxJek',
 *   1614265330, '{"test": 2432232314}');
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 */
export function signWebhook(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): string {
  const content = `${id}.${timestamp}.${body}`;
  return secrets
    .map((secret) => {
      const key = Buffer.from(
        secret.startsWith(WEBHOOK_SECRET_PREFIX)
          ? secret.slice(WEBHOOK_SECRET_PREFIX.length)
          : secret,
        'base64',
      );
      return `v1,${createHmac('sha256', key).update(content, 'utf8').digest('base64')}`;
    })
    .join(' ');
}

/** The three Standard Webhooks headers of one attempt. */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  at: Date,
  body: string,
): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secrets, id, timestamp, body),
  };
}
