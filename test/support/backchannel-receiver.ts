import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An RP's back-channel logout endpoint: a real HTTP server on loopback collecting the logout tokens it receives. */
export class BackchannelReceiver {
  private constructor(
    private readonly server: Server,
    readonly uri: string,
    /** Every logout token received, in order (callers may empty it). */
    readonly tokens: string[],
  ) {}

  static async start(): Promise<BackchannelReceiver> {
    const tokens: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return new BackchannelReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel`, tokens);
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
