/** Side-effect module: applies the stored theme before any component module loads. */
import { initTheme } from './theme.ts';

initTheme();
