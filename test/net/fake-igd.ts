/** A WANIPConnection control endpoint on 127.0.0.1 for the session and start-mapping tests: a real HTTP/SOAP peer with a table and a router's rules. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { tagText } from '../../src/net/igd-description.ts';
import { UpnpClient } from '../../src/net/upnp-client.ts';

export interface Entry {
  internalPort: number;
  internalClient: string;
  description: string;
  lease: number;
}

/** Starts the endpoint; `client(version)` is a UpnpClient for it with 127.0.0.1 as this host. */
export async function fakeIgd(
  t: TestContext,
  rules: { refuseBelow1024?: boolean; permanentOnly?: boolean; taken?: number[]; hold?: () => Promise<void>; externalAddress?: string } = {},
) {
  const table = new Map<number, Entry>();
  const calls: Array<{ action: string; body: string }> = [];
  const listeners: Array<() => void> = [];
  const fault = (res: ServerResponse, code: number) => {
    res.writeHead(500, { 'Content-Type': 'text/xml' });
    res.end(`<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>${code}</errorCode><errorDescription>x</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`);
  };
  const ok = (res: ServerResponse, action: string, inner = '') => {
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    res.end(`<s:Envelope><s:Body><u:${action}Response>${inner}</u:${action}Response></s:Body></s:Envelope>`);
  };
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const c of req) body += c;
    const action = /#(\w+)"/.exec(String(req.headers.soapaction))![1]!;
    calls.push({ action, body });
    for (const l of listeners) l();
    const num = (n: string) => Number(tagText(body, n));
    if (action === 'AddPortMapping' || action === 'AddAnyPortMapping') {
      if (action === 'AddAnyPortMapping' && rules.hold) await rules.hold();
      if (action === 'AddPortMapping' && rules.hold) await rules.hold();
      let ext = num('NewExternalPort');
      const entry = { internalPort: num('NewInternalPort'), internalClient: tagText(body, 'NewInternalClient'), description: tagText(body, 'NewPortMappingDescription'), lease: num('NewLeaseDuration') };
      if (action === 'AddAnyPortMapping') {
        while (table.has(ext) || rules.taken?.includes(ext) || (rules.refuseBelow1024 && ext < 1024)) ext++;
        table.set(ext, entry);
        return ok(res, action, `<NewReservedPort>${ext}</NewReservedPort>`);
      }
      if (rules.refuseBelow1024 && ext < 1024) return fault(res, 606);
      if (rules.taken?.includes(ext)) return fault(res, 718);
      if (rules.permanentOnly && entry.lease !== 0) return fault(res, 725);
      table.set(ext, entry);
      return ok(res, action);
    }
    if (action === 'DeletePortMapping') {
      if (!table.delete(num('NewExternalPort'))) return fault(res, 714);
      return ok(res, action);
    }
    if (action === 'GetSpecificPortMappingEntry') {
      const e = table.get(num('NewExternalPort'));
      if (!e) return fault(res, 714);
      return ok(res, action, `<NewInternalPort>${e.internalPort}</NewInternalPort><NewInternalClient>${e.internalClient}</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>${e.description}</NewPortMappingDescription><NewLeaseDuration>${e.lease}</NewLeaseDuration>`);
    }
    if (action === 'GetGenericPortMappingEntry') {
      const list = [...table.entries()];
      const hit = list[num('NewPortMappingIndex')];
      if (!hit) return fault(res, 713);
      const [ext, e] = hit;
      return ok(res, action, `<NewRemoteHost></NewRemoteHost><NewExternalPort>${ext}</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>${e.internalPort}</NewInternalPort><NewInternalClient>${e.internalClient}</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>${e.description}</NewPortMappingDescription><NewLeaseDuration>${e.lease}</NewLeaseDuration>`);
    }
    if (action === 'GetExternalIPAddress') return ok(res, action, `<NewExternalIPAddress>${rules.externalAddress ?? '11.11.11.1'}</NewExternalIPAddress>`);
    return fault(res, 401);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const client = (version: 1 | 2) =>
    new UpnpClient({ serviceType: `urn:schemas-upnp-org:service:WANIPConnection:${version}`, controlUrl: `http://127.0.0.1:${port}/ctl`, version, friendlyName: 'test' }, '127.0.0.1', 2000);
  /** Resolves once the router has seen `n` calls of `action`. */
  const seen = (action: string, n = 1) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (calls.filter((c) => c.action === action).length >= n) resolve();
      };
      listeners.push(check);
      check();
    });
  return { table, calls, client, seen };
}
