import type { CredentialDeviceType } from '@simplewebauthn/server';

/** The amr values that name a passkey's kind. */
export const PASSKEY_KINDS: ReadonlySet<string> = new Set(['hwk', 'swk']);

/**
 * RFC 8176 for a passkey: `hwk` when its key cannot leave the authenticator (a device-bound
 * credential), `swk` when it is synced between devices, plus `user` when the authenticator
 * verified the person (PIN, biometric).
 */
export const amrFor = (deviceType: CredentialDeviceType, userVerified: boolean) => [deviceType === 'singleDevice' ? 'hwk' : 'swk', ...(userVerified ? ['user'] : [])];
