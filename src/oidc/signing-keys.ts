import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';
import type { SealedBox } from '../security/sealed-box.js';

export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export type KeyState = 'next' | 'current' | 'retired';

export interface SigningKeyInfo {
  kid: string;
  alg: SigningAlg;
  state: KeyState;
  createdAt: number;
  activatedAt?: number;
  retiredAt?: number;
  retireUntil?: number;
}

export class KeyRotationError extends Error {
  override name = 'KeyRotationError';
}

function generate(alg: SigningAlg): { privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const privateJwk = pair.privateKey.export({ format: 'jwk' });
  const publicJwk = pair.publicKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint: a kid that is unique and derivable from the key itself.
  const members =
    publicJwk.kty === 'RSA'
      ? { e: publicJwk.e, kty: 'RSA', n: publicJwk.n }
      : publicJwk.kty === 'EC'
        ? { crv: publicJwk.crv, kty: 'EC', x: publicJwk.x, y: publicJwk.y }
        : { crv: publicJwk.crv, kty: 'OKP', x: publicJwk.x };
  const kid = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  const tag = { kid, alg, use: 'sig' };
  return { privateJwk: { ...privateJwk, ...tag }, publicJwk: { ...publicJwk, ...tag } };
}

const rowInfo = (r: Record<string, unknown>): SigningKeyInfo => ({
  kid: String(r.kid),
  alg: r.alg as SigningAlg,
  state: r.state as KeyState,
  createdAt: toNumber(r.created_at)!,
  activatedAt: toNumber(r.activated_at),
  retiredAt: toNumber(r.retired_at),
  retireUntil: toNumber(r.retire_until),
});

// A key is published while it is current or next, and while retired until its last token expires.
const isPublished = (r: { state: unknown; retire_until: unknown }, now: number) => r.state !== 'retired' || toNumber(r.retire_until)! > now;

const STATE_ORDER: Record<KeyState, number> = { current: 0, next: 1, retired: 2 };

/**
 * Signing keys in SQL, private halves sealed. Each algorithm has one `current` key that
 * signs, one `next` key that is already published (so relying parties have it cached
 * before it ever signs) and `retired` keys kept published until their last token expires.
 */
export class SigningKeyStore {
  constructor(
    private readonly db: Database,
    private readonly box: SealedBox,
  ) {}

  private async insert(trx: Database, alg: SigningAlg, state: KeyState, now: number) {
    const { privateJwk, publicJwk } = generate(alg);
    await trx('signing_keys').insert({
      kid: publicJwk.kid,
      alg,
      state,
      private_jwk_sealed: this.box.seal(JSON.stringify(privateJwk), String(publicJwk.kid)),
      public_jwk: JSON.stringify(publicJwk),
      created_at: now,
      activated_at: state === 'current' ? now : null,
    });
  }

  // Serialises key changes between processes sharing PostgreSQL.
  private async lock(trx: Database) {
    if (trx.client.config.client === 'pg') await trx.raw('select pg_advisory_xact_lock(7373517)');
  }

  /** Creates whatever is missing (first start): a current and a next key per algorithm. */
  async ensure(): Promise<string[]> {
    const created: string[] = [];
    await this.db.transaction(async (trx) => {
      await this.lock(trx);
      const rows = await trx('signing_keys').select('alg', 'state');
      const now = Date.now();
      for (const alg of SIGNING_ALGS) {
        for (const state of ['current', 'next'] as const) {
          if (!rows.some((r) => r.alg === alg && r.state === state)) {
            await this.insert(trx, alg, state, now);
            created.push(`${alg}/${state}`);
          }
        }
      }
    });
    return created;
  }

  async list(): Promise<SigningKeyInfo[]> {
    const rows = await this.db('signing_keys').select(
      'kid',
      'alg',
      'state',
      'created_at',
      'activated_at',
      'retired_at',
      'retire_until',
    );
    return rows.map(rowInfo).sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.createdAt - a.createdAt);
  }

  /**
   * Promotes each algorithm's next key to current, retires the old current key (published
   * for `retireAfterSeconds` more) and publishes a fresh next key. Refuses when the next key
   * has been published for less than `leadSeconds`, unless forced.
   */
  async rotate(opts: { leadSeconds: number; retireAfterSeconds: number; force?: boolean; algs?: SigningAlg[] }) {
    const algs = opts.algs ?? [...SIGNING_ALGS];
    const rotated: { alg: SigningAlg; retired: string; promoted: string }[] = [];
    await this.db.transaction(async (trx) => {
      await this.lock(trx);
      const now = Date.now();
      const rows = (await trx('signing_keys').select('*').whereIn('state', ['current', 'next'])).map(rowInfo);
      for (const alg of algs) {
        const current = rows.find((r) => r.alg === alg && r.state === 'current');
        const next = rows.find((r) => r.alg === alg && r.state === 'next');
        if (!current || !next) throw new KeyRotationError(`no ${alg} key pair to rotate; start the server or run \`tessera migrate\` first`);
        const publishedFor = Math.floor((now - next.createdAt) / 1000);
        if (!opts.force && publishedFor < opts.leadSeconds) {
          throw new KeyRotationError(
            `the next ${alg} key has been published for ${publishedFor}s, less than the ${opts.leadSeconds}s lead relying parties need to fetch it; wait or use --force`,
          );
        }
        await trx('signing_keys')
          .where({ kid: current.kid })
          .update({ state: 'retired', retired_at: now, retire_until: now + opts.retireAfterSeconds * 1000 });
        await trx('signing_keys').where({ kid: next.kid }).update({ state: 'current', activated_at: now });
        await this.insert(trx, alg, 'next', now);
        rotated.push({ alg, retired: current.kid, promoted: next.kid });
      }
      await trx('signing_keys').where({ state: 'retired' }).andWhere('retire_until', '<', now).delete();
    });
    return rotated;
  }

  /** A cheap summary that changes whenever the published or signing set changes. */
  async fingerprint(): Promise<string> {
    const now = Date.now();
    const rows = await this.db('signing_keys').select('kid', 'state', 'retire_until').orderBy('kid');
    return rows
      .filter((r) => isPublished(r, now))
      .map((r) => `${r.kid}:${r.state}`)
      .join(',');
  }

  /** The public keys the provider publishes (what its JWKS endpoint serves). */
  async publicJwks(): Promise<JsonWebKey[]> {
    const now = Date.now();
    const rows = await this.db('signing_keys').select('public_jwk', 'state', 'retire_until');
    return rows
      .filter((r) => isPublished(r, now))
      .map((r) => JSON.parse(String(r.public_jwk)) as JsonWebKey);
  }

  /** Private JWKs for the provider: current keys first, so they are the ones chosen to sign. */
  async loadPrivateJwks(): Promise<JsonWebKey[]> {
    const now = Date.now();
    const rows = await this.db('signing_keys').select('*');
    return rows
      .filter((r) => isPublished(r, now))
      .map((r) => ({ info: rowInfo(r), sealed: String(r.private_jwk_sealed) }))
      .sort((a, b) => STATE_ORDER[a.info.state] - STATE_ORDER[b.info.state] || b.info.createdAt - a.info.createdAt)
      .map(({ info, sealed }) => JSON.parse(this.box.open(sealed, info.kid).toString('utf8')) as JsonWebKey);
  }
}
