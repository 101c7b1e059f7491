/**
 * The one error type a user sees. `subject` names the file or field at fault and `expected`
 * what would have been accepted, so the CLI can print a single clear line without a stack.
 */
export class MedfieldError extends Error {
  /** File path or config field at fault (may be empty when there is none). */
  readonly subject: string;
  /** Short machine-readable category, e.g. 'bad-file', 'bad-option', 'io'. */
  readonly code: MedfieldErrorCode;
  constructor(code: MedfieldErrorCode, subject: string, message: string, options?: { cause?: unknown }) {
    super(subject ? `${subject}: ${message}` : message, options);
    this.name = 'MedfieldError';
    this.code = code;
    this.subject = subject;
  }
}

export const ERROR_CODES = ['bad-file', 'bad-option', 'bad-data', 'io', 'unsupported'] as const;
export type MedfieldErrorCode = (typeof ERROR_CODES)[number];

export function isMedfieldError(e: unknown): e is MedfieldError {
  return e instanceof MedfieldError;
}

/** Throws a 'bad-option' MedfieldError unless `cond` holds. */
export function check(cond: boolean, subject: string, message: string): asserts cond {
  if (!cond) throw new MedfieldError('bad-option', subject, message);
}
