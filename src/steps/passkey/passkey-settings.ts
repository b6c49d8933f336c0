import { z } from 'zod';

// A flow requirement's settings for the passkey step: `{ "step": "passkey", "settings": { "aaguids": [...] } }`.
const settingsSchema = z
  .object({
    // Only passkeys from these authenticator models (AAGUIDs) may be registered or used in the flow.
    aaguids: z.array(z.guid('an AAGUID is written like 08987058-cadc-4b81-b6e1-30de50dcbe96').transform((v) => v.toLowerCase())).min(1).max(100).optional(),
  })
  .strict();

export type PasskeySettings = z.infer<typeof settingsSchema>;

/** What is wrong with a requirement's settings, one message each. */
export function settingsProblems(settings: Readonly<Record<string, unknown>>): string[] {
  const parsed = settingsSchema.safeParse(settings);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`);
}

/** The settings of a flow already checked at load (undefined when it has none). */
export const settingsOf = (settings: Readonly<Record<string, unknown>> | undefined): PasskeySettings => (settings ? settingsSchema.parse(settings) : {});

/** Whether a flow with these settings accepts a passkey of this authenticator model. */
export const aaguidAllowed = (settings: PasskeySettings, aaguid: string) => !settings.aaguids || settings.aaguids.includes(aaguid.toLowerCase());
