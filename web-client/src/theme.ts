/**
 * Colour theme: Dark (the default), Light, or Match system. The choice lives in localStorage; the
 * theme in effect is written to `<html data-theme="dark|light">`, which tokens.css keys on. Set as
 * the bundle's first import so the attribute is there before the first component renders.
 */

/** What the person picked in the Theme control. */
export type ThemeChoice = 'dark' | 'light' | 'system';
/** The palette actually applied. */
export type Theme = 'dark' | 'light';

export const THEME_STORAGE_KEY = 'chatroom.theme';
export const THEME_CHOICES: readonly ThemeChoice[] = ['dark', 'light', 'system'];
/** Fired on `window` whenever the choice changes (here or in another tab), for controls showing it. */
export const THEME_CHANGE_EVENT = 'chatroom-theme-change';
const LIGHT_QUERY = '(prefers-color-scheme: light)';

/** A stored value as a choice; anything unknown (or nothing) means the default, dark. */
export function parseThemeChoice(value: unknown): ThemeChoice {
  return THEME_CHOICES.includes(value as ThemeChoice) ? (value as ThemeChoice) : 'dark';
}

/** The palette for a choice, given whether the system currently prefers light. */
export function resolveTheme(choice: ThemeChoice, systemPrefersLight: boolean): Theme {
  if (choice === 'system') return systemPrefersLight ? 'light' : 'dark';
  return choice;
}

/** The stored choice; storage can be unavailable (privacy modes), which reads as the default. */
export function loadThemeChoice(): ThemeChoice {
  try {
    return parseThemeChoice(localStorage.getItem(THEME_STORAGE_KEY));
  } catch {
    return 'dark';
  }
}

let current: ThemeChoice = 'dark';
let media: MediaQueryList | undefined;

function apply(): void {
  document.documentElement.dataset.theme = resolveTheme(current, media?.matches ?? false);
}

/** Applies and stores a choice; with `system`, later changes of the OS setting follow live. */
export function setThemeChoice(choice: ThemeChoice): void {
  current = choice;
  try {
    localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // Not persisted (storage blocked); it still applies for this page.
  }
  apply();
  dispatchEvent(new Event(THEME_CHANGE_EVENT));
}

/** The choice in effect on this page. */
export function themeChoice(): ThemeChoice {
  return current;
}

/** Reads the stored choice and applies it; also watches the system setting for `system`. */
export function initTheme(): void {
  current = loadThemeChoice();
  media = typeof matchMedia === 'function' ? matchMedia(LIGHT_QUERY) : undefined;
  media?.addEventListener('change', () => {
    if (current === 'system') apply();
  });
  // Another tab changed the setting: follow it.
  addEventListener('storage', (e) => {
    if (e.key !== THEME_STORAGE_KEY) return;
    current = parseThemeChoice(e.newValue);
    apply();
    dispatchEvent(new Event(THEME_CHANGE_EVENT));
  });
  apply();
}
