// A minimal cookie-keeping HTTP "browser" for driving the HTML login flow without Chromium:
// it follows redirects on the provider's origin and stops at the first hop elsewhere (the RP).

export interface Page {
  status: number;
  url: string;
  html: string;
  headers: Headers;
  /** Set when a redirect left the provider: where the browser would go next. */
  leftTo?: string;
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x60;/g, '`').replace(/&amp;/g, '&');

/** A file for `Browser.upload` (camera frames by default). */
export interface Upload {
  field: string;
  data: Uint8Array;
  name?: string;
  type?: string;
}

/** A body sent as it is, with the content type it claims. */
export interface RawBody {
  type: string;
  data: string | Uint8Array;
}

export class Browser {
  private readonly jar = new Map<string, string>();

  constructor(private readonly origin: string) {}

  private store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0/i.test(a.trim()) || (/^expires=/i.test(a.trim()) && Date.parse(a.trim().slice(8)) < Date.now()));
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  clearCookies(): void {
    this.jar.clear();
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; multipart?: FormData; raw?: RawBody; headers?: Record<string, string> } = {}): Promise<Page> {
    let target = new URL(url, this.origin).href;
    let method = init.method ?? (init.form || init.multipart || init.raw ? 'POST' : 'GET');
    let body: string | FormData | Uint8Array | undefined = init.raw?.data ?? init.multipart ?? (init.form ? new URLSearchParams(init.form).toString() : undefined);
    for (let hops = 0; hops < 20; hops++) {
      const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
      if (init.raw && body !== undefined) headers['content-type'] = init.raw.type;
      else if (typeof body === 'string') headers['content-type'] = 'application/x-www-form-urlencoded';
      if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(target, { method, headers, body, redirect: 'manual' });
      this.store(res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, target);
        await res.arrayBuffer();
        if (next.origin !== this.origin) return { status: res.status, url: target, html: '', headers: res.headers, leftTo: next.href };
        target = next.href;
        method = 'GET';
        body = undefined;
        continue;
      }
      return { status: res.status, url: target, html: await res.text(), headers: res.headers };
    }
    throw new Error('too many redirects');
  }

  /** Submits the page's form whose action contains `actionPart`, hidden fields included. */
  submit(page: Page, actionPart: string, fields: Record<string, string> = {}, headers?: Record<string, string>): Promise<Page> {
    const { action, hidden } = this.formOf(page, actionPart);
    return this.request(action, { form: { ...hidden, ...fields }, headers });
  }

  /** Submits the form as multipart/form-data with files (hidden fields included), as a page's script or a device would. */
  upload(page: Page, actionPart: string, files: Upload[], fields: Record<string, string> = {}, headers?: Record<string, string>): Promise<Page> {
    const { action, hidden } = this.formOf(page, actionPart);
    const body = new FormData();
    for (const [k, v] of Object.entries({ ...hidden, ...fields })) body.append(k, v);
    files.forEach((f, i) => body.append(f.field, new Blob([f.data], { type: f.type ?? 'image/jpeg' }), f.name ?? `frame-${i + 1}.jpg`));
    return this.request(action, { multipart: body, headers });
  }

  /** Posts any body, declared as any content type, to the page's form (as a misbehaving client would). */
  send(page: Page, actionPart: string, raw: RawBody, headers?: Record<string, string>): Promise<Page> {
    return this.request(this.formOf(page, actionPart).action, { raw, headers });
  }

  private formOf(page: Page, actionPart: string): { action: string; hidden: Record<string, string> } {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => decode(f[1] ?? '').includes(actionPart));
    if (!form) throw new Error(`no form with action containing ${actionPart} on ${page.url}:\n${page.html.slice(0, 500)}`);
    const hidden: Record<string, string> = {};
    for (const input of (form[2] ?? '').matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name) hidden[name] = decode(value);
    }
    return { action: new URL(decode(form[1] ?? ''), page.url).href, hidden };
  }
}
