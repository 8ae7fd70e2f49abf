/** Registers every media element: import this once (side effect) where media is shown. */
import './attachment-chip.ts';
import './attachment-view.ts';
import './photo-lightbox.ts';
import './photo-viewer.ts';
import './voice-player.ts';
import './voice-recorder.ts';
export * from './media-events.ts';
