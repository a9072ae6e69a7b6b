// A browser without a window: cookies kept by host name and path (RFC 6265 §5.1.3-5.1.4), every
// redirect followed, until a page answers or the browser is sent to `stopAt` (an IdP that the
// test plays by hand).
interface Cookie {
  readonly name: string;
  readonly value: string;
  readonly host: string;
  readonly path: string;
}

const MAX_REDIRECTS = 20;

export interface Visit {
  /** Where the browser ended up. */
  readonly url: string;
  /** The answer there; absent when it stopped at `stopAt` without asking. */
  readonly response?: Response;
  readonly text: string;
}

export class Browser {
  #jar: Cookie[] = [];

  #cookieHeader(url: URL): string {
    return this.#jar
      .filter(
        (c) =>
          c.host === url.hostname &&
          (url.pathname === c.path ||
            url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  #keep(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      this.#jar = this.#jar.filter(
        (c) => !(c.name === name && c.host === url.hostname && c.path === path),
      );
      const expired =
        value === '' || attributes.some((a) => /^expires=thu, 01 jan 1970|^max-age=0$/i.test(a));
      if (!expired) this.#jar.push({ name, value, host: url.hostname, path });
    }
  }

  async visit(
    url: string,
    init: { form?: Record<string, string>; stopAt?: string } = {},
  ): Promise<Visit> {
    let at = url;
    let form = init.form;
    for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
      if (init.stopAt && at.startsWith(init.stopAt)) return { url: at, text: '' };
      const target = new URL(at);
      const response = await fetch(target, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          accept: 'text/html',
          cookie: this.#cookieHeader(target),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : null,
      });
      this.#keep(target, response);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location)
        return { url: at, response, text: await response.text() };
      at = new URL(location, at).href;
      form = undefined;
    }
    throw new Error('too many redirects');
  }
}

/** A page's visible text, roughly: tags dropped, whitespace folded. */
export const visibleText = (html: string): string =>
  html
    .replace(/<(script|style|title)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, ' ')
    .trim();
