/** A `Host` header or a BOARD_ALLOWED_HOSTS entry, split; `port` undefined when none was given. */
export function splitHost(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { name: m[1]!.toLowerCase().replace(/\.$/, ''), port };
}

/**
 * Whether a request's `Host` names this board. An allowed entry without a port stands for the
 * port the board listens on; a `Host` without a port means port 80.
 */
export function hostAllowed(host: string | undefined, allowed: readonly string[], listeningPort: number): boolean {
  const h = host === undefined ? undefined : splitHost(host);
  if (h === undefined) return false;
  const port = h.port ?? 80;
  return allowed.some((entry) => {
    const a = splitHost(entry);
    return a !== undefined && a.name === h.name && (a.port ?? listeningPort) === port;
  });
}
