import SCIMMY from 'scimmy';
import type { PatchResourceType } from './patch-types.js';

/**
 * Multi-valued sub-attributes whose type scimmy 1.3.5 declares with `canonicalValues: []`, which it
 * reads as "no value allowed". RFC 7643 §4.1.2 gives them no canonical list,
 * and Entra ID sends `roles[].type: "WindowsAzureActiveDirectoryRole"`, so any value is accepted.
 */
const FREE_TYPE_ATTRIBUTES = ['roles.type', 'x509Certificates.type'] as const;

let declared = false;

/**
 * Declares the User (with the enterprise extension, optional) and Group resources in scimmy and
 * fixes its schema definitions once per process. scimmy's state is process-global, so this is the one place that shapes it; call it at start-up (the PATCH functions call it
 * too). Idempotent: later calls do nothing, and scimmy itself treats a second declaration of the
 * same class, or a second `extend` with the same extension, as a no-op.
 */
export function declareScimResources(): void {
  if (declared) return;
  SCIMMY.Resources.declare(SCIMMY.Resources.User).extend(SCIMMY.Schemas.EnterpriseUser, false);
  SCIMMY.Resources.declare(SCIMMY.Resources.Group);
  for (const name of FREE_TYPE_ATTRIBUTES) {
    const attribute = findAttribute(SCIMMY.Schemas.User.definition, name);
    // Another module may have truncated the attribute from the schema: nothing to relax then.
    if (attribute instanceof SCIMMY.Types.Attribute) attribute.config.canonicalValues = false;
  }
  declared = true;
}

/** The schema definition PATCH paths of this resource type are resolved against. */
export function definitionOf(resourceType: PatchResourceType): SCIMMY.Types.SchemaDefinition {
  declareScimResources();
  return resourceType === 'User' ? SCIMMY.Schemas.User.definition : SCIMMY.Schemas.Group.definition;
}

/** scimmy's lookup (case-insensitive, URN-aware), with "not declared" as undefined, not a throw. */
export function findAttribute(
  definition: SCIMMY.Types.SchemaDefinition,
  name: string,
): SCIMMY.Types.Attribute | SCIMMY.Types.SchemaDefinition | undefined {
  try {
    return definition.attribute<SCIMMY.Types.Attribute | SCIMMY.Types.SchemaDefinition>(name);
  } catch {
    return undefined;
  }
}
