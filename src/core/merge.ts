/**
 * Deep merge of plain JSON objects: `b` over `a`; objects merge key by key, anything else
 * (arrays, numbers, strings, null) in `b` replaces `a`'s value. Neither input is modified. Used to
 * apply a config's keys over a named preset.
 */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isPlainObject(v) && isPlainObject(cur) ? deepMerge(cur, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
