import type { Request } from 'express';
import type { ChangeContext } from '@roster/core';

/** Who is acting: an operator, named by the CLI's X-Roster-Operator header when it sends one. */
export function operatorContext(req: Request): ChangeContext {
  const name = req.get('x-roster-operator');
  const id = name && /^[\w.@-]{1,64}$/.test(name) ? name : 'admin-api';
  return { actor: { type: 'operator', id }, requestId: req.id };
}
