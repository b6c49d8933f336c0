import type { Services } from '../../services.js';
import { PasskeyChallenges } from './passkey-challenges.js';
import { PasskeyCredentials } from './passkey-credentials.js';
import { PasskeyStep } from './passkey-step.js';
import { RelyingParty } from './relying-party.js';

/** The passkey step, as the server's issuer makes it a relying party. */
export function createPasskeyStep(services: Services): PasskeyStep {
  const { config, db, accounts, throttle, audit } = services;
  const challenges = new PasskeyChallenges(services.shortLivedRecords, config.passkeyChallengeSeconds);
  return new PasskeyStep(new PasskeyCredentials(db), challenges, new RelyingParty(config.issuer), accounts, throttle, audit);
}
