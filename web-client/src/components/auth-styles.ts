/** Layout shared by the sign-up and sign-in screens. */
import { css } from 'lit';

export const authStyles = css`
  :host { display: grid; place-items: center; min-height: 100%; padding: var(--chat-space-4); }
  main {
    width: 100%;
    max-width: var(--chat-dialog-width);
    background: var(--chat-color-surface);
    border: var(--chat-border-width) solid var(--chat-color-border);
    border-radius: var(--chat-radius-large);
    padding: var(--chat-space-5);
  }
  h1 { font-size: var(--chat-font-size-large); margin: 0 0 var(--chat-space-1); }
  .lead { color: var(--chat-color-text-muted); margin: 0 0 var(--chat-space-5); }
  input[aria-invalid='true'] { border-color: var(--chat-color-danger); }
  .field-error { font-size: var(--chat-font-size-small); margin: var(--chat-space-1) 0 0; }
  button.primary { width: 100%; padding: var(--chat-space-3); }
  .alt { margin: var(--chat-space-4) 0 0; text-align: center; color: var(--chat-color-text-muted); }
`;
