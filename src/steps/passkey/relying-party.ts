import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { decodeAttestationObject, decodeClientDataJSON, isoBase64URL, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { z } from 'zod';

const b64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/);
const credentialShape = {
  id: b64url(1400),
  rawId: b64url(1400),
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};
const assertionSchema = z.object({
  ...credentialShape,
  response: z.looseObject({ clientDataJSON: b64url(4096), authenticatorData: b64url(4096), signature: b64url(1024), userHandle: b64url(128).optional() }),
});
const attestationSchema = z.object({
  ...credentialShape,
  response: z.looseObject({ clientDataJSON: b64url(4096), attestationObject: b64url(8192), transports: z.array(z.string().max(32)).max(8).optional() }),
});

export type ResponseRefusal = 'malformed' | 'wrong_origin' | 'wrong_rp_id';
// A refused response still names its credential when it could be read that far (for the audit trail).
type Read<T> = { ok: true; response: T; challenge: string } | { ok: false; reason: ResponseRefusal; credentialId?: string };

/** What people are told when a response was made for another site (or is no response at all). */
export const RESPONSE_TEXT: Record<ResponseRefusal, string> = {
  malformed: 'Your browser sent no usable passkey response. Try again.',
  wrong_origin: 'This passkey response was made for another website, not this one, and was refused.',
  wrong_rp_id: 'This passkey belongs to another website, not this one, and was refused.',
};

/**
 * Tessera as a WebAuthn relying party: its RP ID is the issuer's host name and the only origin it
 * accepts is the issuer's. A posted response is read (its shape, the page origin the browser
 * recorded, the RP its authenticator signed for) before anything is looked up, so that a response
 * made for another site is refused as such; the library then verifies all of it again with the signature.
 */
export class RelyingParty {
  readonly id: string;
  readonly origin: string;
  private readonly idHash: Buffer;

  constructor(issuer: string) {
    const url = new URL(issuer);
    this.id = url.hostname;
    this.origin = url.origin;
    this.idHash = createHash('sha256').update(this.id).digest();
  }

  readAssertion(posted: string | undefined): Read<AuthenticationResponseJSON> {
    return this.read(posted, assertionSchema, 'webauthn.get', (r) => r.response.authenticatorData) as Read<AuthenticationResponseJSON>;
  }

  readAttestation(posted: string | undefined): Read<RegistrationResponseJSON> {
    const authData = (r: z.infer<typeof attestationSchema>) => isoBase64URL.fromBuffer(decodeAttestationObject(isoBase64URL.toBuffer(r.response.attestationObject)).get('authData'));
    return this.read(posted, attestationSchema, 'webauthn.create', authData) as Read<RegistrationResponseJSON>;
  }

  private read<S extends z.ZodType<{ id: string; response: { clientDataJSON: string } }>>(posted: string | undefined, schema: S, type: string, authDataOf: (r: z.infer<S>) => string): Read<z.infer<S>> {
    try {
      const parsed = schema.safeParse(JSON.parse(posted ?? ''));
      if (!parsed.success) return { ok: false, reason: 'malformed' };
      const clientData = decodeClientDataJSON(parsed.data.response.clientDataJSON);
      if (clientData.type !== type || typeof clientData.challenge !== 'string') return { ok: false, reason: 'malformed' };
      const credentialId = parsed.data.id;
      if (clientData.origin !== this.origin || clientData.crossOrigin === true) return { ok: false, reason: 'wrong_origin', credentialId };
      const rpIdHash = Buffer.from(parseAuthenticatorData(isoBase64URL.toBuffer(authDataOf(parsed.data))).rpIdHash);
      if (!rpIdHash.equals(this.idHash)) return { ok: false, reason: 'wrong_rp_id', credentialId };
      return { ok: true, response: parsed.data, challenge: clientData.challenge };
    } catch {
      // Not JSON, not base64url of JSON, not CBOR, truncated authenticator data: no response.
      return { ok: false, reason: 'malformed' };
    }
  }
}
