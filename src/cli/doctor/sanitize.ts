/**
 * Text from another machine (the phone's report, a router's UPnP description) printed in the
 * terminal: control characters could move the cursor, rewrite earlier lines (a fake ✓), set the
 * window title or, on some terminals, write files or the clipboard. Only printable text is kept.
 */

/**
 * ESC sequences, whole: CSI (ESC [ … final byte), OSC/DCS/SOS/PM/APC strings (up to BEL or ST, or
 * to the end when unterminated) and two-byte ESC sequences. The C1 forms (U+009B CSI, U+009D OSC…)
 * are matched the same way.
 */
const ESCAPE_SEQUENCE = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x7e]?/g;

/** C0 (incl. newline and tab), DEL and C1 controls; and the bidi overrides that reorder a line. */
const CONTROL = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every escape sequence and control character removed, for printing something a remote
 * party chose on one line of the terminal. A removed newline joins the pieces (no forged lines).
 */
export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}
