/** Human-readable sizes, durations and the icon family of a MIME type, for the media components. */

const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/**
 * A byte count as people read it: "0 B", "999 B", "1.5 KB", "12 MB", "1.2 GB". Binary units
 * (1 KB = 1024 bytes, what most file managers show), one decimal below 10, none above.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KB rounds to "1024 KB": step up instead.
  if (Math.round(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value < 10 ? (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  return `${text} ${UNITS[unit]}`;
}

/** A duration in milliseconds as "m:ss" (or "h:mm:ss" from an hour), rounded down to the second. */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** What kind of file a MIME type names, for the icon of an attachment. */
export type MimeFamily = 'image' | 'audio' | 'video' | 'pdf' | 'archive' | 'text' | 'document' | 'other';

const ARCHIVES = new Set(['application/zip', 'application/x-7z-compressed', 'application/x-tar', 'application/gzip', 'application/x-gzip', 'application/x-bzip2', 'application/x-xz', 'application/x-rar-compressed', 'application/vnd.rar', 'application/zstd']);
const DOCUMENTS = /^application\/(msword|rtf|vnd\.oasis\.opendocument\.|vnd\.openxmlformats-officedocument\.|vnd\.ms-)/;

/** The family of `mime` (parameters and case ignored); anything unknown is "other". */
export function mimeFamily(mime: string): MimeFamily {
  const type = mime.split(';')[0].trim().toLowerCase();
  if (type === 'application/pdf') return 'pdf';
  if (ARCHIVES.has(type)) return 'archive';
  if (DOCUMENTS.test(type)) return 'document';
  const top = type.split('/')[0];
  if (top === 'image' || top === 'audio' || top === 'video' || top === 'text') return top;
  if (type === 'application/json' || type === 'application/xml') return 'text';
  return 'other';
}

/**
 * A sender-chosen file name made safe to show and to save under: control and format characters
 * go (a right-to-left override can make "photo\u202Egpj.exe" read as "photoexe.jpg"), path
 * separators become "_", and it is cut to 120 characters. Empty when nothing is left.
 */
export function safeFileName(name: string): string {
  return name.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '').replace(/[\\/]/g, '_').trim().slice(0, 120);
}
