import { DOMParser } from '@xmldom/xmldom';

/**
 * Parses XML, collecting the parser's errors rather than letting it recover silently: SAML
 * messages and metadata come from outside, and a document xmldom had to repair is not one to
 * trust. Returns the first problem instead of a document when there is one.
 */
export function parseXmlStrictly(
  xml: string,
): { document: Document; root: Element } | { problem: string } {
  const problems: string[] = [];
  const document = new DOMParser({
    locator: {},
    errorHandler: {
      warning: () => undefined,
      error: (message: string) => problems.push(message),
      fatalError: (message: string) => problems.push(message),
    },
  }).parseFromString(xml, 'application/xml');
  const root = document.documentElement;
  if (problems.length > 0 || !root) return { problem: problems[0] ?? 'no root element' };
  return { document, root };
}
