/**
 * Launches Debian's Chromium through playwright-core for UI tests and records, per page, console
 * errors, uncaught page errors and CSP violations, so a test can assert there were none.
 * Without /usr/bin/chromium the caller skips (or fails, when CHATROOM_TEST_STRICT=1).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_MISSING = 'chromium (Debian package) not installed';

/** A CSP violation as the page saw it (`securitypolicyviolation`). */
export interface CspViolation {
  directive: string;
  blockedURI: string;
  sourceFile: string;
  lineNumber: number;
}

/** What went wrong in one page. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  cspViolations: CspViolation[];
}

/**
 * The reason to skip UI tests, or undefined when Chromium is there. Throws instead of skipping when
 * CHATROOM_TEST_STRICT=1, so CI cannot pass by silently skipping.
 */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.CHATROOM_TEST_STRICT === '1') throw new Error(`${CHROMIUM_MISSING} (CHATROOM_TEST_STRICT=1)`);
  console.log(CHROMIUM_MISSING);
  return CHROMIUM_MISSING;
}

/** Headless Chromium with networking extras off (no calls home, loopback only). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh profile (own cookies) that accepts the self-signed certificate. `colorScheme` is what
 * `prefers-color-scheme` reports (Playwright's default is light).
 */
export async function newContext(
  browser: Browser,
  opts: { width?: number; height?: number; colorScheme?: 'light' | 'dark' | 'no-preference' } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    ...(opts.colorScheme ? { colorScheme: opts.colorScheme } : {}),
  });
  // Runs before any page script; the listener forwards violations to the binding below.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = { directive: e.violatedDirective, blockedURI: e.blockedURI, sourceFile: e.sourceFile, lineNumber: e.lineNumber };
      (window as unknown as { __chatroomCsp?: (v: unknown) => void }).__chatroomCsp?.(report);
    });
  });
  return context;
}

const problemsByPage = new WeakMap<Page, PageProblems>();

/** Opens a page that records its problems; read them with `problemsOf(page)`. */
export async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [] };
  problemsByPage.set(page, problems);
  await page.exposeBinding('__chatroomCsp', (_source, v: CspViolation) => {
    problems.cspViolations.push(v);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || isSignedOutProbe(msg.text(), msg.location().url)) return;
    problems.consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.pageErrors.push(err.message));
  return page;
}

/**
 * Chromium logs every non-2xx fetch as a console error. Some answers are by design and not
 * problems: the client's "am I signed in?" request (GET /api/me, 401 when signed out), "does this
 * account have a key backup?" (GET /api/mls/backup/account-key, 404 for an account without
 * end-to-end keys), "does this conversation have an MLS group yet?" (GET /api/mls/groups/<conv>,
 * 404 until its first member creates it), and the two optimistic writes that can lose a race
 * (409 for a commit when another member committed first, or for an archive write when another
 * device wrote first: the client applies the winner and retries).
 */
function isSignedOutProbe(text: string, url: string): boolean {
  const path = new URL(url, 'http://x').pathname;
  if (/status of 401\b/.test(text) && path === '/api/me') return true;
  if (/status of 409\b/.test(text) && (/^\/api\/mls\/groups\/[^/]+\/commits$/.test(path) || path === '/api/mls/backup/archive')) return true;
  return /status of 404\b/.test(text) && (path === '/api/mls/backup/account-key' || /^\/api\/mls\/groups\/[^/]+$/.test(path));
}

/**
 * After "Create account": waits for the recovery key screen, returns the key it shows and leaves
 * the screen with Continue (after filling the optional backup passphrase, when given).
 */
export async function acceptRecoveryKey(page: Page, opts: { passphrase?: string; timeout?: number } = {}): Promise<string> {
  const key = page.getByLabel('Recovery key', { exact: true });
  await key.waitFor({ timeout: opts.timeout ?? 20_000 });
  const text = await key.getAttribute('data-recovery-key');
  if (!text) throw new Error('the recovery key screen shows no key');
  if (opts.passphrase) await page.getByLabel('Backup passphrase (optional)').fill(opts.passphrase);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  return text;
}

export function problemsOf(page: Page): PageProblems {
  const p = problemsByPage.get(page);
  if (!p) throw new Error('page was not opened with newPage()');
  return p;
}

/** All problems of these pages in one list of readable lines (empty when clean). */
export function describeProblems(pages: Page[]): string[] {
  const lines: string[] = [];
  for (const page of pages) {
    const p = problemsOf(page);
    for (const e of p.consoleErrors) lines.push(`console error: ${e}`);
    for (const e of p.pageErrors) lines.push(`page error: ${e}`);
    for (const v of p.cspViolations) lines.push(`CSP violation: ${v.directive} blocked ${v.blockedURI} (${v.sourceFile}:${v.lineNumber})`);
  }
  return lines;
}

/**
 * For an account made outside the browser (Node helpers): "Set up keys" in the open conversation,
 * then Continue on the recovery key screen; resolves with the recovery key once the conversation
 * shows it is end-to-end encrypted.
 */
export async function setUpKeys(page: Page, opts: { timeout?: number } = {}): Promise<string> {
  const timeout = opts.timeout ?? 20_000;
  await page.getByRole('button', { name: 'Set up keys' }).click({ timeout });
  const key = await acceptRecoveryKey(page, { timeout });
  await page.getByRole('note', { name: 'End-to-end encrypted' }).waitFor({ timeout });
  return key;
}

/** The open conversation's Messages log. */
export function messageLog(page: Page) {
  return page.getByRole('log', { name: 'Messages' });
}

/** Types `text` into the composer and presses Send. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** Waits until a message containing `text` is in the log. */
export async function seeMessage(page: Page, text: string, timeout?: number): Promise<void> {
  await messageLog(page).getByRole('article').filter({ hasText: text }).waitFor(timeout === undefined ? {} : { timeout });
}
