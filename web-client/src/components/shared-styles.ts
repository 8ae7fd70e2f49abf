/** Styles every component shares: controls, focus rings, visually-hidden text. Tokens only. */
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    font-family: var(--chat-font-family);
    color: var(--chat-color-text);
  }
  *, *::before, *::after { box-sizing: border-box; }
  :focus-visible {
    outline: var(--chat-focus-ring-width) solid var(--chat-color-focus);
    outline-offset: var(--chat-focus-ring-offset);
  }
  .visually-hidden {
    position: absolute !important;
    width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
    overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
    border-radius: var(--chat-radius-small);
    border: var(--chat-border-width) solid var(--chat-color-border);
    background: var(--chat-color-surface-raised);
    padding: var(--chat-space-2) var(--chat-space-3);
  }
  button:hover { background: var(--chat-color-hover); }
  button:disabled { cursor: default; opacity: 0.6; }
  button.primary {
    background: var(--chat-color-accent);
    color: var(--chat-color-accent-text);
    border-color: var(--chat-color-accent);
    font-weight: 600;
  }
  button.primary:hover:not(:disabled) { background: var(--chat-color-accent-hover); }
  button.quiet { background: transparent; border-color: transparent; }
  button.quiet:hover { background: var(--chat-color-hover); }
  input, textarea {
    font: inherit;
    color: var(--chat-color-text);
    background: var(--chat-color-bg);
    border: var(--chat-border-width) solid var(--chat-color-border);
    border-radius: var(--chat-radius-small);
    padding: var(--chat-space-2) var(--chat-space-3);
    width: 100%;
  }
  input:focus-visible, textarea:focus-visible { outline-offset: 0; }
  label { display: block; font-weight: 600; margin-bottom: var(--chat-space-1); }
  .field { margin-bottom: var(--chat-space-4); }
  .hint { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); margin: var(--chat-space-1) 0 0; }
  .error { color: var(--chat-color-danger); margin: var(--chat-space-2) 0; }
  .error:empty, .status:empty { display: none; }
  .status { color: var(--chat-color-text-muted); margin: var(--chat-space-2) 0; }
  a { color: var(--chat-color-link); }
`;
