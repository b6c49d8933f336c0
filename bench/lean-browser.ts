import { Agent, request } from 'node:http';

// The load generator's own browser: node:http on keep-alive sockets, a cookie jar and just
// enough HTML reading to post a form. At concurrency 1 every millisecond the generator spends
// shows up as login latency, so it avoids fetch and the test suite's fuller Browser.

export interface Hop {
  status: number;
  html: string;
  // Set when a redirect left the issuer's origin: the RP callback with the code.
  leftTo?: URL;
}

const agent = new Agent({ keepAlive: true });
const FORM = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g;
const HIDDEN = /<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"/g;
const unescape = (s: string) => s.replace(/&#x3D;/g, '=').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

function send(url: URL, method: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export class LeanBrowser {
  private readonly jar = new Map<string, string>();

  constructor(private readonly origin: string) {}

  /** Requests `url` and follows redirects on the issuer's origin. */
  async go(url: string, method = 'GET', form?: Record<string, string>): Promise<Hop> {
    let target = new URL(url, this.origin);
    let body = form ? new URLSearchParams(form).toString() : undefined;
    for (let hops = 0; hops < 10; hops++) {
      const headers: Record<string, string> = { accept: 'text/html' };
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await send(target, method, headers, body);
      this.keep(res.headers['set-cookie']);
      const location = res.headers.location;
      if (res.status < 300 || res.status >= 400 || typeof location !== 'string') return { status: res.status, html: res.body };
      const next = new URL(location, target);
      if (next.origin !== this.origin) return { status: res.status, html: '', leftTo: next };
      target = next;
      method = 'GET';
      body = undefined;
    }
    throw new Error('too many redirects');
  }

  /** Posts the page's form whose action contains `actionPart`, with its hidden fields. */
  submit(page: Hop, actionPart: string, fields: Record<string, string>): Promise<Hop> {
    for (const [, action = '', inner = ''] of page.html.matchAll(FORM)) {
      if (!action.includes(actionPart)) continue;
      const hidden = Object.fromEntries([...inner.matchAll(HIDDEN)].map(([, name = '', value = '']) => [name, unescape(value)]));
      return this.go(unescape(action), 'POST', { ...hidden, ...fields });
    }
    throw new Error(`no form for ${actionPart} (status ${page.status})`);
  }

  private keep(cookies: string | string[] | undefined) {
    for (const line of Array.isArray(cookies) ? cookies : cookies ? [cookies] : []) {
      const [pair = ''] = line.split(';', 1);
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
}

/** POSTs a form outside any browser (the RP's token request). */
export function postForm(url: string, form: Record<string, string>, authorization: string) {
  return send(new URL(url), 'POST', { 'content-type': 'application/x-www-form-urlencoded', authorization }, new URLSearchParams(form).toString());
}
