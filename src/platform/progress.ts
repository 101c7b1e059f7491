/**
 * Progress reporting on stderr (stdout stays clean for --json). A bar redrawn in place on a
 * TTY; on a pipe or in CI, a plain line at most every few seconds so logs stay readable.
 */
export interface Progress {
  /** Sets the completed amount (0..total) and an optional short status text. */
  update(done: number, status?: string): void;
  /** Marks the task complete and prints the elapsed time. */
  done(status?: string): void;
}

export interface ProgressOptions {
  /** Suppress all output (e.g. --quiet). */
  silent?: boolean;
  stream?: NodeJS.WriteStream;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

export function createProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const t0 = performance.now();
  let lastDraw = 0;
  let finished = false;
  const draw = (done: number, status: string, force: boolean) => {
    if (opts.silent || finished) return;
    const now = performance.now();
    if (!force && now - lastDraw < (tty ? 100 : 5000)) return;
    lastDraw = now;
    const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
    const elapsed = (now - t0) / 1000;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const line = `${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${fmtSeconds(elapsed)} eta ${fmtSeconds(eta)}${status ? ' ' + status : ''}`;
    if (tty) stream.write(`\r\x1b[2K${line}`);
    else stream.write(line + '\n');
  };
  return {
    update(done: number, status = '') { draw(done, status, false); },
    done(status = '') {
      if (opts.silent || finished) return;
      const elapsed = (performance.now() - t0) / 1000;
      const line = `${label} done in ${fmtSeconds(elapsed)}${status ? ' ' + status : ''}`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : line + '\n');
      finished = true;
    },
  };
}

/**
 * Runs an async step with a live elapsed-time line (for library calls that cannot report
 * fractions, such as an ITK read or an elastix registration).
 */
export async function withSpinner<T>(label: string, fn: () => Promise<T> | T, opts: ProgressOptions = {}): Promise<T> {
  const stream = opts.stream ?? process.stderr;
  if (opts.silent) return await fn();
  const t0 = performance.now();
  const frames = ['|', '/', '-', '\\'];
  let i = 0;
  const timer = stream.isTTY
    ? setInterval(() => stream.write(`\r\x1b[2K${label} ${frames[i++ % 4]} ${fmtSeconds((performance.now() - t0) / 1000)}`), 120)
    : null;
  try {
    const out = await fn();
    const line = `${label} done in ${fmtSeconds((performance.now() - t0) / 1000)}`;
    stream.write(stream.isTTY ? `\r\x1b[2K${line}\n` : line + '\n');
    return out;
  } finally {
    if (timer) clearInterval(timer);
  }
}
