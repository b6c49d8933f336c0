import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
// Authenticator data flags: user present, user verified, attested credential data; backup eligible/state.
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

/**
 * A WebAuthn authenticator in Node (one ES256 credential, "none" attestation), for tests of the
 * server's checks without a browser: it signs what it is told, including for another origin or RP,
 * with whatever counter it is given, as a cloned or malicious authenticator could.
 */
export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly key: KeyObject;
  private readonly publicJwk: { x: string; y: string };
  /** The signature counter the next assertion carries (a real authenticator raises it itself). */
  counter = 0;

  constructor(
    readonly aaguid = '00000000-0000-0000-0000-000000000000',
    private readonly synced = false,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.key = privateKey;
    this.publicJwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  }

  private flags(extra: number) {
    return UP | UV | extra | (this.synced ? BE | BS : 0);
  }

  private clientData(type: string, challenge: string, origin: string) {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** The JSON a browser posts after `navigator.credentials.create()`. */
  register(challenge: string, origin: string, rpId = new URL(origin).hostname): string {
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, isoBase64URL.toBuffer(this.publicJwk.x)],
      [-3, isoBase64URL.toBuffer(this.publicJwk.y)],
    ]);
    const aaguid = Buffer.from(this.aaguid.replace(/-/g, ''), 'hex');
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(AT)]), u32(this.counter), aaguid, idLength, this.credentialId, isoCBOR.encode(cose)]);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
    return this.credentialJson({ clientDataJSON: b64(this.clientData('webauthn.create', challenge, origin)), attestationObject: b64(attestationObject), transports: ['internal'] });
  }

  /** The JSON a browser posts after `navigator.credentials.get()`; `userHandle` as a discoverable credential returns it. */
  assert(challenge: string, origin: string, opts: { rpId?: string; userHandle?: string } = {}): string {
    const authData = Buffer.concat([sha256(opts.rpId ?? new URL(origin).hostname), Buffer.from([this.flags(0)]), u32(this.counter)]);
    const clientDataJSON = this.clientData('webauthn.get', challenge, origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.key);
    return this.credentialJson({ clientDataJSON: b64(clientDataJSON), authenticatorData: b64(authData), signature: b64(signature), userHandle: opts.userHandle && isoBase64URL.fromUTF8String(opts.userHandle) });
  }

  /** A PublicKeyCredential as the browser serialises it, around an authenticator response. */
  private credentialJson(response: Record<string, unknown>): string {
    const id = b64(this.credentialId);
    return JSON.stringify({ id, rawId: id, type: 'public-key', clientExtensionResults: {}, response });
  }
}
