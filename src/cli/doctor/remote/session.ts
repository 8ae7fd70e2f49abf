/**
 * `doctor --remote`: a host cannot see its own firewall or the router's hairpin from inside, so
 * the user's phone does the test. One-time URLs (LAN first: phone on Wi-Fi; then the public one:
 * phone on mobile data) with a QR code each; results are printed as they arrive; it ends when all
 * are in, on Ctrl+C, or after the wait.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { CliContext } from '../../context.ts';
import type { StopRequests } from '../../stop.ts';
import { paint, shellQuote, type Paint } from '../../style.ts';
import { isLoopbackHost } from '../../../tls/addresses.ts';
import { terminalSafe } from '../sanitize.ts';
import type { DoctorContext } from '../types.ts';
import { readServingPair } from './cert.ts';
import { startRemoteServer, type PhoneReport, type RemoteServer } from './server.ts';

export interface RemoteOptions {
  /** How long to wait for the phone, ms. */
  waitMs: number;
  stop?: StopRequests;
}

type Step = 'wifi' | 'mobile';

const STEP_WORDS: Record<Step, string> = { wifi: 'phone on Wi-Fi', mobile: 'phone on mobile data' };
const STEP_LABELS: Record<Step, string> = { wifi: 'Wi-Fi', mobile: 'Mobile data' };

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function token(): string {
  return randomBytes(18).toString('base64url');
}

/** "https://example.org/base" + "/r/<token>/", keeping a path prefix (reverse proxy) intact. */
function underBase(base: string, tok: string): string {
  return `${base.replace(/\/+$/, '')}/r/${tok}/`;
}

async function qr(url: string, cli: CliContext): Promise<string> {
  if (!cli.isTTY) return '';
  const QRCode = (await import('qrcode')).default;
  return await QRCode.toString(url, { type: 'terminal', small: true });
}

/** One result line and whether it counts as a pass. */
export function describeReport(step: Step, r: PhoneReport, p: Paint): { ok: boolean; lines: string[] } {
  const label = STEP_LABELS[step];
  const problems: string[] = [];
  if (!r.secure) problems.push('not a secure context: the browser will refuse encryption, camera and microphone (open it over https)');
  if (r.wsMs === null) problems.push(`WebSocket did not connect (${(r.wsError === null ? '' : terminalSafe(r.wsError)) || 'no reason given'}): a proxy, filter or antivirus on that network blocks it`);
  const parts = [r.secure ? 'secure context' : 'NOT a secure context', `page loaded in ${r.loadMs} ms`, r.wsMs === null ? 'WebSocket failed' : `WebSocket connected in ${r.wsMs} ms`];
  const ok = problems.length === 0;
  return { ok, lines: [`${ok ? p.green('✓') : p.red('✗')} ${label}: ${parts.join(', ')}`, ...problems.map((s) => `    ${p.cyan(s)}`)] };
}

function noAnswerLines(step: Step, ctx: DoctorContext, port: number, p: Paint): string[] {
  const label = STEP_LABELS[step];
  const dir = shellQuote(ctx.dir);
  const causes =
    step === 'wifi'
      ? [
          `If the page did not open at all: this computer's firewall blocks TCP ${port} (chatroom firewall --dir ${dir}), or the phone is on a guest Wi-Fi that cannot see other devices.`,
          'If the browser warned about the certificate: accept it once (compare the fingerprint chatroom start prints), then reload.',
        ]
      : [
          `If the page did not open: the router does not forward port ${port} to this computer (see the Router section), the ISP uses CGNAT, or the phone was still on Wi-Fi (a router without hairpin NAT cannot loop back).`,
          'Turn Wi-Fi off on the phone so it really comes in from the internet.',
        ];
  return [`${p.red('✗')} ${label}: no answer from the phone`, ...causes.map((s) => `    ${p.cyan(s)}`)];
}

/** Runs the phone test; resolves true when every step reported and passed. */
export async function runRemoteCheck(ctx: DoctorContext, cli: CliContext, opts: RemoteOptions): Promise<boolean> {
  const p = paint(cli);
  const out = (s = '') => cli.stdout.write(s + '\n');
  const { config, facts } = ctx;
  out();
  out(p.bold('Phone check (doctor --remote)'));

  if (isLoopbackHost(config.host)) {
    out(`${p.red('✗')} The server listens on ${config.host} only: no phone can reach it. Set host: 0.0.0.0 in chatroom.yaml (and tls.mode: self-signed) first.`);
    return false;
  }
  const pair = readServingPair(config);
  if (!pair) {
    out(`${p.red('✗')} No certificate yet: run \`chatroom start --dir ${shellQuote(ctx.dir)}\` once (it makes one), stop it, then run this again.`);
    return false;
  }

  // The real port tests the real firewall rule and router mapping; when chatroom holds it, a spare port
  // still shows whether the phone gets a secure context and a WebSocket through.
  // A wildcard bind: the first LAN IPv4 (phones prefer it on a LAN), IPv6 only with host ::; else the bound address.
  const lan = facts.lanAddresses ?? [];
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const lanHost = wildcard ? [...lan.filter((a) => isIP(a) === 4), ...(config.host === '::' ? lan.filter((a) => isIP(a) === 6) : [])][0] : config.host;
  const wantPort = facts.serverRunning ? 0 : config.port;
  const tokens = new Map<string, string>();
  const reports: Array<{ step: Step; report: PhoneReport }> = [];
  let wake: () => void = () => {};
  // One result per step: the listener consumes a token once, and a second report for a step is
  // dropped here too, so the count below is of distinct steps (never a step counted twice).
  const noteReport = (step: Step, report: PhoneReport): void => {
    if (reports.some((r) => r.step === step)) return;
    reports.push({ step, report });
    wake();
  };
  let server: RemoteServer;
  const listen = (port: number) =>
    startRemoteServer({ host: config.host, port, cert: pair.cert, key: pair.key, tokens, onReport: (step, report) => noteReport(step as Step, report) });
  try {
    server = await listen(wantPort);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || wantPort === 0) throw err;
    server = await listen(0);
  }
  const onOwnPort = server.port === config.port;
  const spare = !onOwnPort && config.port !== 0;

  const steps: Array<{ step: Step; url: string }> = [];
  if (lanHost) {
    const tok = token();
    tokens.set(tok, 'wifi');
    steps.push({ step: 'wifi', url: `https://${hostPart(lanHost)}:${server.port}/r/${tok}/` });
  }
  const publicBase = facts.publicUrl || config.publicUrl;
  if (publicBase && onOwnPort) {
    const tok = token();
    tokens.set(tok, 'mobile');
    steps.push({ step: 'mobile', url: underBase(publicBase, tok) });
  }

  try {
    if (spare) {
      out(p.dim(`${facts.serverRunning ? 'chatroom is running on' : 'another program holds port'} ${config.port}, so this test uses the spare port ${server.port}: your firewall may block that one even when it lets ${config.port} in.`));
      out(p.dim(`For the full test (firewall and router for the real port, and the phone on mobile data), free port ${config.port} and run this again.`));
    }
    if (!steps.length) {
      out(`${p.red('✗')} No address a phone could use: this computer has no LAN address.`);
      return false;
    }
    if (!steps.some((s) => s.step === 'mobile') && !spare) out(p.dim('No public address is known (see Router and Internet above), so only the Wi-Fi step runs.'));
    for (const [i, s] of steps.entries()) {
      out();
      out(`Step ${i + 1} of ${steps.length}: ${STEP_WORDS[s.step]}${s.step === 'mobile' ? ' (Wi-Fi off)' : ' (the same network as this computer)'}, open:`);
      out(`  ${s.url}`);
      const code = await qr(s.url, cli);
      if (code) out(code);
    }
    out();
    out(p.dim(`Waiting for your phone (Ctrl+C stops; gives up after ${Math.round(opts.waitMs / 1000)} s)…`));

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.waitMs)));
    let ok = true;
    let printed = 0;
    for (;;) {
      const next = new Promise<void>((resolve) => (wake = resolve));
      for (; printed < reports.length; printed++) {
        const { step, report } = reports[printed]!;
        const d = describeReport(step, report, p);
        ok &&= d.ok;
        for (const l of d.lines) out(l);
      }
      if (steps.every((s) => reports.some((r) => r.step === s.step))) break;
      const why = await Promise.race([next.then(() => 'report' as const), timedOut.then(() => 'timeout' as const), ...(opts.stop ? [opts.stop.first.then(() => 'stop' as const)] : [])]);
      if (why === 'report') continue;
      const missing = steps.filter((s) => !reports.some((r) => r.step === s.step));
      for (const s of missing) {
        const lines = why === 'timeout' ? noAnswerLines(s.step, ctx, server.port, p) : [`${p.yellow('!')} ${STEP_LABELS[s.step]}: not tested (stopped)`];
        for (const l of lines) out(l);
      }
      ok = false;
      break;
    }
    clearTimeout(timer);
    return ok;
  } finally {
    await server.close();
  }
}
