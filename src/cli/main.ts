import { ConfigError, loadConfig } from '../../config/load.js';
import { InputError } from '../accounts/input-error.js';
import { PasswordHashError } from '../accounts/password-hash.js';
import { migrate } from '../db/database.js';
import { createLogger } from '../log.js';
import { KeyRotationError } from '../oidc/signing-keys.js';
import { openServices } from '../services.js';
import { UsageError } from './args.js';
import { clientCommand } from './client.js';
import { flowCommand } from './flow.js';
import { keysCommand } from './keys.js';
import { CaptureError, neuralCommand } from './neural.js';
import { print } from './output.js';
import { userCommand } from './user.js';

const HELP = `usage: tessera <command> [options] [--json]

  migrate                      create or upgrade the database schema
  user create|list|disable|enable|set-password|delete|credentials|remove-credential
  client create|list|update|delete|rotate-secret|registration-token
  flow list|get|set|delete
  keys list|rotate
  neural send --code CODE --file RECORDING [--issuer URL]   deliver an EEG recording to a sign-in page

Configuration comes from the same environment variables as the server (DATABASE_URL, DATA_DIR, …).
Run a command without arguments for its options.`;

const USER_ERRORS = [UsageError, ConfigError, InputError, PasswordHashError, KeyRotationError, CaptureError];

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return;
  }
  // A device client: it talks to a server over HTTP and never opens the database.
  if (command === 'neural') return neuralCommand(rest);
  if (!['migrate', 'user', 'client', 'flow', 'keys'].includes(command)) throw new UsageError(`unknown command: ${command}\n\n${HELP}`);
  const config = loadConfig();
  const s = await openServices(config, createLogger('warn'), { migrate: false });
  try {
    if (command === 'migrate') {
      const applied = await migrate(s.db);
      const created = await s.keys.ensure();
      print(rest.includes('--json'), { applied, keysCreated: created }, () => [
        [applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date'],
        ...(created.length ? [[`created signing keys: ${created.join(', ')}`]] : []),
      ]);
      return;
    }
    // Every other command needs the schema; apply it if this is a fresh database.
    await migrate(s.db);
    if (command === 'user') await userCommand(s, rest);
    else if (command === 'client') await clientCommand(s, rest);
    else if (command === 'flow') await flowCommand(s, rest);
    else await keysCommand(s, rest);
  } finally {
    await s.close();
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    const known = USER_ERRORS.some((E) => err instanceof E);
    console.error(`tessera: ${known ? (err as Error).message : (err as Error)?.stack ?? err}`);
    process.exit(err instanceof UsageError || err instanceof ConfigError ? 2 : 1);
  },
);
