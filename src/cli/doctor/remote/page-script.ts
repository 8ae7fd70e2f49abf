/**
 * Runs on the user's phone, in the page `chatroom doctor --remote` serves (a module script: the
 * page's CSP allows no inline code). It measures what the phone saw and posts it back:
 * secure context, page load time (ms since navigation start) and WebSocket connect time (ms).
 */
export {};

interface RemoteReport {
  secure: boolean;
  loadMs: number;
  wsMs: number | null;
  wsError: string | null;
}

/** Longest wait for the WebSocket, ms. */
const PROBE_TIMEOUT_MS = 10_000;

const base = location.pathname.replace(/[^/]*$/, '');
const status = document.getElementById('status');
const show = (text: string) => {
  if (status) status.textContent = text;
};

function connectWebSocket(): Promise<{ ms: number | null; error: string | null }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${base}ws`);
    } catch (err) {
      resolve({ ms: null, error: String(err) });
      return;
    }
    const timer = setTimeout(() => {
      ws.close();
      resolve({ ms: null, error: 'timed out' });
    }, PROBE_TIMEOUT_MS);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve({ ms: Math.round(performance.now() - started), error: null });
      ws.close();
    };
    ws.onerror = () => {
      clearTimeout(timer);
      resolve({ ms: null, error: 'refused or blocked' });
    };
  });
}

async function main(): Promise<void> {
  const loadMs = Math.round(performance.now());
  show('Checking the connection…');
  const ws = await connectWebSocket();
  const report: RemoteReport = { secure: window.isSecureContext, loadMs, wsMs: ws.ms, wsError: ws.error };
  try {
    const res = await fetch(`${base}report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });
    if (!res.ok) throw new Error(String(res.status));
    show(`Done: the result is on the computer running chatroom doctor. ${report.secure ? 'Secure connection.' : 'Not a secure context!'} Page ${loadMs} ms, WebSocket ${ws.ms === null ? 'failed' : `${ws.ms} ms`}.`);
  } catch {
    show('Could not send the result back to chatroom doctor (was it stopped?).');
  }
}

void main();
