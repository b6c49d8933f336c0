import type { Services } from '../services.js';
import { SealedBox } from '../security/sealed-box.js';
import { MODELS_DIR } from '../paths.js';
import { createFaceStep } from './face/index.js';
import { NeuralStep } from './neural/neural-step.js';
import { createPasskeyStep } from './passkey/index.js';
import { PasswordStep } from './password/password-step.js';
import { StepRegistry } from './registry.js';
import { TotpCredentials } from './totp/totp-credentials.js';
import { TotpStep } from './totp/totp-step.js';

/**
 * Every step this server offers, for the server and for the CLI (which checks flows against
 * them). One line per step: the engine discovers everything else through the Step interface.
 */
export async function createSteps(services: Services): Promise<StepRegistry> {
  const { config, accounts, audit, log, throttle } = services;
  const master = services.masterKey.key;
  return new StepRegistry([
    await PasswordStep.create(accounts, throttle, audit, log),
    new TotpStep(TotpCredentials.forMasterKey(services.db, master), throttle, audit, new SealedBox(master, 'totp-pending'), `Tessera (${new URL(config.issuer).host})`),
    createFaceStep(config, services, throttle, MODELS_DIR),
    NeuralStep.forConfig(services.db, master, throttle, audit, config, log),
    createPasskeyStep(services),
  ]);
}
