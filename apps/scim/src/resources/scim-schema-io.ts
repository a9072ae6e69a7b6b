// The two passes through scimmy every resource type makes: a client's body in, a resource out.
import SCIMMY from 'scimmy';
import { ScimError } from '../errors/scim-error.js';
import { coerceInput, withScimmy } from '../http/scimmy-errors.js';
import { isPlainObject as isObject } from '../patch/normalise-patch-request.js';
import { checkMultiValuedAttributes } from './multi-valued.js';
import { normaliseResourceBody } from './normalise-body.js';

type Json = Record<string, unknown>;
export type ResourceType = 'User' | 'Group';

const SCHEMA_OF = { User: SCIMMY.Schemas.User, Group: SCIMMY.Schemas.Group } as const;

export { isPlainObject as isObject } from '../patch/normalise-patch-request.js';

/** What a client sees: scimmy's outbound coercion (returned:never dropped) and projection. */
export function renderResource(
  type: ResourceType,
  resource: Json,
  url: string,
  projection?: SCIMMY.Types.Filter,
): Json {
  // Without a projection the resource is what scimmy coerced on the way in plus our own columns
  // and meta (never a returned:never attribute), so its outbound pass, about 1 ms a resource,
  // would change nothing; with one, scimmy projects (RFC 7644 §3.4.2.5).
  if (!projection) return resource;
  const Schema = SCHEMA_OF[type];
  const rendered = withScimmy(
    () => new Schema(resource, 'out', url, projection) as unknown as Json,
  );
  // RFC 7644 §3.4.2.5: `attributes` narrows the answer, yet `schemas` identifies it; scimmy drops it.
  return { schemas: resource.schemas, ...rendered };
}

/**
 * A POST/PUT body, normalised (IdP quirks, reported in `quirks`) and coerced by scimmy against
 * the resource type's schema (RFC 7643 §2): plain JSON, readOnly attributes dropped.
 */
export function readResourceBody(
  type: ResourceType,
  body: unknown,
  pathId?: string,
): { representation: Json; quirks: string[] } {
  if (!isObject(body))
    throw new ScimError(400, 'the request body must be a JSON object', 'invalidSyntax');
  // RFC 7644 §3.5.1: id is readOnly; a PUT naming another id asks to change it.
  if (pathId !== undefined && typeof body.id === 'string' && body.id !== pathId)
    throw new ScimError(
      400,
      `id is immutable: the body names ${body.id}, the URL ${pathId}`,
      'mutability',
    );
  const normalised = normaliseResourceBody(body, type);
  const Schema = SCHEMA_OF[type];
  const instance = coerceInput(() => new Schema(normalised.body, 'in') as unknown as Json);
  const representation = JSON.parse(JSON.stringify(instance)) as Json;
  checkMultiValuedAttributes(type, representation);
  return { representation, quirks: normalised.quirks };
}
