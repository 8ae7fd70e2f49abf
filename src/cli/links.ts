/** Printing links (setup, invite) with their LAN variant. */
import { baseUrl, lanUrls } from '../config/urls.ts';
import type { Config } from '../config/schema.ts';

/** Prints the same link with a LAN address, for the admin's phone or laptop. `port`: the bound port. */
export function printLanVariant(c: Config, url: string, out: (s: string) => void, port = c.port): void {
  if (c.publicUrl) return;
  const local = baseUrl(c, port);
  const lan = lanUrls(c, port)[0];
  if (lan && url.startsWith(local)) out(`  from another device on your network: ${lan}${url.slice(local.length)}`);
}
