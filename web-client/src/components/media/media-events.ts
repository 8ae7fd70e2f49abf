/** Typed events of the media components; all bubble and cross shadow roots. */
import type { VoiceRecording } from '../../media/voice.ts';

/** <voice-recorder> finished a recording the user kept. */
export class VoiceRecordedEvent extends Event {
  static readonly type = 'voice-recorded';
  constructor(readonly recording: VoiceRecording) {
    super(VoiceRecordedEvent.type, { bubbles: true, composed: true });
  }
}

/** <attachment-chip>: the user asked to cancel the transfer, retry it, or open the file. */
export class AttachmentActionEvent extends Event {
  static readonly type = 'attachment-action';
  constructor(readonly action: 'cancel' | 'retry' | 'open', readonly attachmentId: string) {
    super(AttachmentActionEvent.type, { bubbles: true, composed: true });
  }
}

/** <photo-lightbox> closed (Escape, the Close button or a click outside the image). */
export class LightboxClosedEvent extends Event {
  static readonly type = 'lightbox-closed';
  constructor() {
    super(LightboxClosedEvent.type, { bubbles: true, composed: true });
  }
}

/** A photo in a message was activated: show it in the lightbox (`blobId` of its full image). */
export class PhotoOpenEvent extends Event {
  static readonly type = 'photo-open';
  constructor(readonly blobId: string) {
    super(PhotoOpenEvent.type, { bubbles: true, composed: true });
  }
}

/** <photo-lightbox> moved to another photo (Previous / Next, ← / →). */
export class LightboxIndexEvent extends Event {
  static readonly type = 'lightbox-index';
  constructor(readonly index: number) {
    super(LightboxIndexEvent.type, { bubbles: true, composed: true });
  }
}

interface MediaEventMap {
  'voice-recorded': VoiceRecordedEvent;
  'attachment-action': AttachmentActionEvent;
  'lightbox-closed': LightboxClosedEvent;
  'photo-open': PhotoOpenEvent;
  'lightbox-index': LightboxIndexEvent;
}

declare global {
  interface HTMLElementEventMap extends MediaEventMap {}
  interface DocumentEventMap extends MediaEventMap {}
}
