/** Entry point of the web client bundle (dist/web/app.js). */
import './components/chat-app.ts';
