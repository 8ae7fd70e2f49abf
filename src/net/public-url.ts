/** The public URL a mapping gives: `https://<external address>[:<port>]` (no port for 443, or 80 over http). */
export function publicUrlFor(scheme: 'http' | 'https', address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}`;
}
