/**
 * Read-only parsers for Linux firewall listings: does a new inbound TCP connection to a port get
 * through? Each returns per port true (accepted), false (dropped or rejected) or null (a rule we
 * cannot judge, e.g. a jump to a custom chain or a source-address condition, comes first).
 */

/** Per-port answer: true allowed, false blocked, null unknown. */
export type PortVerdicts = Map<number, boolean | null>;

function inSet(port: number, spec: string): boolean {
  for (const part of spec.split(/[,\s]+/).filter(Boolean)) {
    const range = part.match(/^(\d+)[-:](\d+)$/);
    if (range) {
      if (port >= Number(range[1]) && port <= Number(range[2])) return true;
    } else if (Number(part) === port) return true;
  }
  return false;
}

/** `ufw status verbose` (as root). `null` when ufw says it is inactive. */
export function parseUfwStatus(text: string, ports: number[]): { active: boolean; verdicts: PortVerdicts } {
  const active = /^Status:\s*active/m.test(text);
  const verdicts: PortVerdicts = new Map();
  if (!active) {
    for (const p of ports) verdicts.set(p, true);
    return { active, verdicts };
  }
  const defaultIn = text.match(/^Default:\s*(\w+)\s*\(incoming\)/m)?.[1]?.toLowerCase();
  // Rule lines: "8443/tcp   ALLOW IN   Anywhere", "8000:9000/tcp (v6)   DENY IN   Anywhere (v6)".
  const rules: Array<{ spec: string; proto: string | null; action: string; fromAnywhere: boolean }> = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^(\d[\d,:]*)(?:\/(tcp|udp))?(?:\s+\(v6\))?\s+(ALLOW|DENY|REJECT|LIMIT)(?:\s+IN)?\s+(.+)$/);
    if (m) rules.push({ spec: m[1]!, proto: m[2] ?? null, action: m[3]!, fromAnywhere: /^Anywhere/.test(m[4]!.trim()) });
  }
  for (const port of ports) {
    let verdict: boolean | null | undefined;
    for (const r of rules) {
      if (r.proto === 'udp' || !inSet(port, r.spec)) continue;
      if (r.action === 'ALLOW' || r.action === 'LIMIT') verdict = r.fromAnywhere ? true : null;
      else verdict = false;
      break;
    }
    verdicts.set(port, verdict !== undefined ? verdict : defaultIn === 'allow' ? true : defaultIn ? false : null);
  }
  return { active, verdicts };
}

/**
 * firewalld: the default zone's target (`--get-default-zone` → trusted accepts everything) and
 * `--list-ports` ("8443/tcp 8000-8100/tcp"); services are left out (their ports are not ours).
 */
export function parseFirewalldPorts(zone: string, listPorts: string, ports: number[]): PortVerdicts {
  const verdicts: PortVerdicts = new Map();
  const open = listPorts.split(/\s+/).filter((s) => /\/tcp$/.test(s)).map((s) => s.replace(/\/tcp$/, ''));
  for (const port of ports) verdicts.set(port, zone.trim() === 'trusted' || open.some((spec) => inSet(port, spec)));
  return verdicts;
}

/** Words in a rule that do not narrow which new inbound TCP connections it matches. */
const NFT_NOISE = /\bcomment\s+"[^"]*"|\blog\s+prefix\s+"[^"]*"|\b(counter(\s+packets\s+\d+\s+bytes\s+\d+)?|meta\s+l4proto\s+tcp|ip6?\s+(protocol|nexthdr)\s+tcp|ct\s+state\s+new|log)\b/g;

/**
 * `nft list ruleset`: every base chain hooked on `input` must let the packet through (each is a
 * separate checkpoint). Established/loopback rules don't concern a new connection from the LAN and
 * are skipped; a rule with any other condition before ours makes the answer unknown only if it
 * could end the packet's path (accept/drop/jump).
 */
export function parseNftRuleset(text: string, ports: number[]): { filtering: boolean; verdicts: PortVerdicts } {
  const chains = inputChains(text);
  const verdicts: PortVerdicts = new Map();
  for (const port of ports) {
    let result: boolean | null = true;
    for (const chain of chains) {
      const v = nftChainVerdict(chain, port);
      if (v === false) {
        result = false;
        break;
      }
      if (v === null) result = null;
    }
    verdicts.set(port, result);
  }
  return { filtering: chains.length > 0, verdicts };
}

interface NftChain {
  policy: 'accept' | 'drop';
  rules: string[];
}

function inputChains(text: string): NftChain[] {
  const chains: NftChain[] = [];
  let current: NftChain | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^chain\s+\S+\s*\{/.test(line)) {
      current = { policy: 'accept', rules: [] };
      continue;
    }
    if (!current) continue;
    if (line === '}') {
      if ((current as NftChain & { hooked?: boolean }).hooked) chains.push(current);
      current = null;
      continue;
    }
    if (/^type\s+filter\s+hook\s+input\b/.test(line)) {
      (current as NftChain & { hooked?: boolean }).hooked = true;
      const policy = line.match(/policy\s+(accept|drop)/)?.[1];
      if (policy) current.policy = policy as 'accept' | 'drop';
      continue;
    }
    if (line) current.rules.push(line);
  }
  return chains;
}

function nftChainVerdict(chain: NftChain, port: number): boolean | null {
  let unknown = false;
  for (const rule of chain.rules) {
    const r = rule.replace(NFT_NOISE, ' ').replace(/\s+/g, ' ').trim();
    const action = r.match(/\b(accept|drop|reject(\s+with\s+.+)?|jump\s+\S+|goto\s+\S+)$/)?.[1];
    if (!action) continue;
    const cond = r.slice(0, r.length - action.length).trim();
    if (/^(ct state [\w,{} ]*(established|related)[\w,{} ]*|iif(name)? "?lo"?|ct state invalid|ip protocol icmp|meta l4proto (ipv6-)?icmp|ip6 nexthdr (ipv6-)?icmp.*|icmp.*|icmpv6.*|udp .*)$/.test(cond)) continue;
    const dport = cond.match(/^tcp dport (\{[^}]*\}|\S+)$/);
    const verdict = action === 'accept' ? true : /^(drop|reject)/.test(action) ? false : null;
    if (dport) {
      if (!inSet(port, dport[1]!.replace(/[{}]/g, ''))) continue;
      if (verdict === null || unknown) return null;
      return verdict;
    }
    if (cond === '') {
      if (verdict === null || unknown) return null;
      return verdict;
    }
    // A condition we cannot judge (a source address, an interface): it may or may not apply.
    unknown = true;
  }
  if (unknown) return null;
  return chain.policy === 'accept';
}

/** `iptables -S INPUT`: the same walk over the INPUT chain's rules in order, then its policy. */
export function parseIptablesRules(text: string, ports: number[]): { filtering: boolean; verdicts: PortVerdicts } {
  const policy = text.match(/^-P INPUT (\w+)/m)?.[1] ?? 'ACCEPT';
  const rules = text.split('\n').filter((l) => l.startsWith('-A INPUT '));
  const verdicts: PortVerdicts = new Map();
  for (const port of ports) verdicts.set(port, iptablesVerdict(rules, policy, port));
  return { filtering: policy !== 'ACCEPT' || rules.length > 0, verdicts };
}

function iptablesVerdict(rules: string[], policy: string, port: number): boolean | null {
  let unknown = false;
  for (const rule of rules) {
    const target = rule.match(/ -j (\S+)/)?.[1];
    if (!target) continue;
    const rest = rule
      .replace(/^-A INPUT/, '')
      .replace(/ -j \S+.*$/, '')
      .replace(/ -m (tcp|comment|multiport)\b/g, '')
      .replace(/ --comment ("[^"]*"|\S+)/g, '')
      .trim();
    if (/(-i lo\b|--ctstate \S*(RELATED|ESTABLISHED)|--state \S*(RELATED|ESTABLISHED)|-p (icmp|ipv6-icmp|udp)\b)/.test(rest)) continue;
    const verdict = target === 'ACCEPT' ? true : target === 'DROP' || target === 'REJECT' ? false : null;
    const dport = rest.match(/^-p tcp --dports? (\S+)$/);
    if (dport) {
      if (!inSet(port, dport[1]!)) continue;
      return unknown || verdict === null ? null : verdict;
    }
    if (rest === '' || rest === '-p tcp') return unknown || verdict === null ? null : verdict;
    unknown = true;
  }
  if (unknown) return null;
  return policy === 'ACCEPT';
}
