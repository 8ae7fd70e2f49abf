/**
 * The doctor's sections in report order: Local · Firewall · Router · Internet · TLS · Calls.
 * Each file under checks/ exports one CheckGroup; add it here in its place.
 */
import type { CheckGroup, DoctorSection } from './types.ts';
import { localChecks } from './checks/local.ts';
import { firewallChecks } from './checks/firewall.ts';
import { routerChecks } from './checks/router.ts';
import { internetChecks } from './checks/internet.ts';
import { tlsChecks } from './checks/tls.ts';

export const checkGroups: ReadonlyArray<{ section: DoctorSection; run: CheckGroup }> = [
  { section: 'local', run: localChecks },
  { section: 'firewall', run: firewallChecks },
  { section: 'router', run: routerChecks },
  { section: 'internet', run: internetChecks },
  { section: 'tls', run: tlsChecks },
];
