/**
 * A request the service layer refuses because of what was asked, not because something broke:
 * shown to the caller as it is (CLI message, HTTP 400, or 409 for a conflict with existing data).
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'conflict' = 'invalid',
  ) {
    super(message);
  }
}
