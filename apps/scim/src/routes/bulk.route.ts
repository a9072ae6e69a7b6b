// RFC 7644 §3.7 /Bulk: operations run one after another through the same operations as the
// endpoints, each in its own transaction (atomic on its own, never all-or-nothing).
import { Router } from 'express';
import { scimFailureOf, ScimError, type ScimType } from '../errors/scim-error.js';
import { handle, type OperationInput, type OperationResult } from '../http/operation.js';
import { isObject } from '../resources/scim-schema-io.js';
import { MAX_BULK_OPERATIONS } from '../scim-config.js';
import type { ResourceOperations } from './resource-operations.js';

type Json = Record<string, unknown>;

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const BULK_ID_REFERENCE = /^bulkId:(.+)$/;
const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

interface BulkOperation {
  readonly index: number;
  readonly method: Method;
  readonly path: string;
  readonly bulkId?: string;
  readonly version?: string;
  readonly data?: unknown;
}

/** The request's operations, checked as a whole before any runs (a bad envelope writes nothing). */
function readBulkRequest(body: unknown): { operations: BulkOperation[]; failOnErrors: number } {
  if (!isObject(body) || !Array.isArray(body.schemas) || !body.schemas.includes(BULK_REQUEST))
    throw new ScimError(400, `a BulkRequest must name ${BULK_REQUEST} in schemas`, 'invalidSyntax');
  if (!Array.isArray(body.Operations) || body.Operations.length === 0)
    throw new ScimError(400, 'Operations must be a non-empty array', 'invalidSyntax');
  // RFC 7644 §3.7.4: more operations than advertised is 413.
  if (body.Operations.length > MAX_BULK_OPERATIONS)
    throw new ScimError(
      413,
      `at most ${MAX_BULK_OPERATIONS} operations per request (ServiceProviderConfig bulk.maxOperations); this one has ${body.Operations.length}`,
    );
  const failOnErrors = body.failOnErrors ?? 0;
  if (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 0)
    throw new ScimError(400, 'failOnErrors must be a non-negative integer', 'invalidValue');
  const seen = new Set<string>();
  const operations = body.Operations.map((raw: unknown, index): BulkOperation => {
    if (!isObject(raw))
      throw new ScimError(400, `Operations[${index}] is not an object`, 'invalidSyntax');
    const method = typeof raw.method === 'string' ? raw.method.toUpperCase() : '';
    if (!(METHODS as readonly string[]).includes(method))
      throw new ScimError(
        400,
        `Operations[${index}].method must be one of ${METHODS.join(', ')}`,
        'invalidValue',
      );
    if (typeof raw.path !== 'string' || !raw.path.startsWith('/'))
      throw new ScimError(
        400,
        `Operations[${index}].path must be a path such as /Users`,
        'invalidValue',
      );
    // RFC 7644 §3.7: a path names a resource; a BulkResponse carries no resources to project, and
    // a query the operation would not honour is refused before anything runs.
    if (raw.path.includes('?'))
      throw new ScimError(
        400,
        `Operations[${index}].path must not carry a query string (${raw.path})`,
        'invalidPath',
      );
    const bulkId = typeof raw.bulkId === 'string' && raw.bulkId !== '' ? raw.bulkId : undefined;
    // RFC 7644 §3.7: bulkId is required with POST and unique within the request.
    if (method === 'POST' && bulkId === undefined)
      throw new ScimError(400, `Operations[${index}] is a POST without a bulkId`, 'invalidValue');
    if (bulkId !== undefined) {
      if (seen.has(bulkId))
        throw new ScimError(400, `bulkId ${bulkId} is used twice`, 'invalidValue');
      seen.add(bulkId);
    }
    return {
      index,
      method: method as Method,
      path: raw.path,
      ...(bulkId !== undefined ? { bulkId } : {}),
      ...(typeof raw.version === 'string' ? { version: raw.version } : {}),
      ...(raw.data !== undefined ? { data: raw.data } : {}),
    };
  });
  return { operations, failOnErrors };
}

/** Every `bulkId:x` a value refers to (in strings anywhere in the data, or in the path). */
function referencesOf(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const match = BULK_ID_REFERENCE.exec(value) ?? /\/bulkId:([^/]+)/.exec(value);
    if (match?.[1]) into.add(match[1]);
  } else if (Array.isArray(value)) value.forEach((v) => referencesOf(v, into));
  else if (isObject(value)) Object.values(value).forEach((v) => referencesOf(v, into));
  return into;
}

/** The value with every `bulkId:x` replaced by the id the POST of x created. */
function resolve(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string')
    return value
      .replace(BULK_ID_REFERENCE, (whole, id: string) => ids.get(id) ?? whole)
      .replace(/\/bulkId:([^/]+)/, (whole, id: string) =>
        ids.has(id) ? `/${ids.get(id)}` : whole,
      );
  if (Array.isArray(value)) return value.map((v) => resolve(v, ids));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, ids)]));
  return value;
}

function errorResponse(
  status: number,
  detail: string,
  requestId: string | undefined,
  scimType?: ScimType,
): Json {
  return {
    schemas: [ERROR_SCHEMA],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    // As on every SCIM error: the request id, to find the log lines of this /Bulk request.
    detail: `${detail} (request id ${requestId ?? 'unknown'})`,
  };
}

/** RFC 7644 §3.7 /Bulk over the tenant's Users and Groups. */
export function bulkRouter(users: ResourceOperations, groups: ResourceOperations): Router {
  const router = Router({ mergeParams: true });
  const resources: Record<string, ResourceOperations> = { Users: users, Groups: groups };

  async function run(operation: BulkOperation, input: OperationInput): Promise<OperationResult> {
    const [, type, id, ...rest] = operation.path.split('/');
    const operations = type !== undefined ? resources[type] : undefined;
    if (
      !operations ||
      rest.length > 0 ||
      (operation.method === 'POST') !== (id === undefined || id === '')
    )
      throw new ScimError(
        400,
        `${operation.method} ${operation.path} is not a bulk operation this server runs`,
        'invalidPath',
      );
    const withId = { ...input, ...(id ? { id } : {}), body: operation.data, query: {} };
    // RFC 7644 §3.7: an operation's `version` is its If-Match.
    const opInput =
      operation.version !== undefined ? { ...withId, ifMatch: operation.version } : withId;
    switch (operation.method) {
      case 'POST':
        return operations.create(opInput);
      case 'PUT':
        return operations.replace(opInput);
      case 'PATCH':
        return operations.patch(opInput);
      case 'DELETE':
        return operations.remove(opInput);
    }
  }

  router.post(
    '/',
    handle(async (input) => {
      // A BulkResponse holds no resources (RFC 7644 §3.7.3): a projection cannot be honoured.
      const projectionParams = Object.keys(input.query).filter((key) =>
        ['attributes', 'excludedattributes'].includes(key.toLowerCase()),
      );
      if (projectionParams.length > 0)
        throw new ScimError(
          400,
          `/Bulk answers hold no resources, so ${projectionParams.join(' and ')} cannot apply`,
          'invalidValue',
        );
      const { operations, failOnErrors } = readBulkRequest(input.body);
      const createdIds = new Map<string, string>();
      const results = new Map<number, Json>();
      const pending = [...operations];
      let errors = 0;
      // RFC 7644 §3.7.2: operations may refer to resources created earlier in the request, in
      // any order; run whichever operation has its references resolved, first come first.
      while (pending.length > 0 && (failOnErrors === 0 || errors < failOnErrors)) {
        const readyAt = pending.findIndex((op) =>
          [...referencesOf([op.path, op.data])].every((ref) => createdIds.has(ref)),
        );
        if (readyAt === -1) {
          // Circular or dangling references: RFC 7644 §3.7.3 answers 409 for each.
          for (const op of pending.splice(0)) {
            errors++;
            results.set(op.index, {
              method: op.method,
              ...(op.bulkId ? { bulkId: op.bulkId } : {}),
              status: '409',
              response: errorResponse(
                409,
                `bulkId references that cannot be resolved: ${[...referencesOf([op.path, op.data])].filter((r) => !createdIds.has(r)).join(', ')}`,
                input.context.requestId,
              ),
            });
          }
          break;
        }
        const [op] = pending.splice(readyAt, 1);
        if (!op) break;
        const resolved: BulkOperation = {
          ...op,
          path: resolve(op.path, createdIds) as string,
          ...(op.data !== undefined ? { data: resolve(op.data, createdIds) } : {}),
        };
        const summary = { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}) };
        try {
          const result = await run(resolved, input);
          const location =
            'location' in result && result.location
              ? result.location
              : resolved.method !== 'POST'
                ? `${input.baseUrl}${resolved.path}`
                : undefined;
          if (op.bulkId && 'resource' in result && typeof result.resource.id === 'string')
            createdIds.set(op.bulkId, result.resource.id);
          results.set(op.index, {
            ...summary,
            ...(location ? { location } : {}),
            ...(result.version !== undefined ? { version: `W/"${result.version}"` } : {}),
            status: String(result.status),
          });
        } catch (error) {
          errors++;
          const scim = scimFailureOf(error);
          if (scim.internal) input.log.warn({ err: error }, 'scim.bulk.operation_failed');
          results.set(op.index, {
            ...summary,
            // RFC 7644 §3.7.3: location in every answer but a failed POST's.
            ...(resolved.method !== 'POST' ? { location: `${input.baseUrl}${resolved.path}` } : {}),
            status: String(scim.status),
            response: errorResponse(
              scim.status,
              scim.detail,
              input.context.requestId,
              scim.scimType,
            ),
          });
        }
      }
      return {
        status: 200,
        resource: {
          schemas: [BULK_RESPONSE],
          Operations: [...results.entries()].sort(([a], [b]) => a - b).map(([, r]) => r),
        },
      };
    }),
  );
  return router;
}
