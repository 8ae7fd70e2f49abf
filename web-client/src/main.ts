/** Entry point of the web client bundle (dist/web/app.js). */
// First, so <html data-theme> is set before any component renders (no flash of the wrong theme).
import './theme-boot.ts';
import './components/chat-app.ts';
