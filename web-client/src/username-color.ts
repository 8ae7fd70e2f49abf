/**
 * Which of the `--chat-color-username-1…N` tokens a name is shown in. A stable hash of the name,
 * so a person keeps their colour across devices and reloads without anything being stored.
 */

/** How many username colour tokens tokens.css defines. */
export const USERNAME_COLORS = 6;

/** 1-based token index for `name` (FNV-1a over the code points, case-insensitive). */
export function usernameColorIndex(name: string): number {
  let hash = 0x811c9dc5;
  for (const ch of name.toLowerCase()) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // FNV's low bits mix poorly and `% 6` reads mostly those: finish with murmur3's avalanche.
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35) >>> 0;
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return (hash % USERNAME_COLORS) + 1;
}
