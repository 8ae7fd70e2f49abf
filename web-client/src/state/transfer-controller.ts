/**
 * Gives a component the app store (from context, without following its changes) and re-renders it
 * when the store's upload or download manager reports progress. Components that also follow the
 * store use StoreController next to it.
 */
import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { downloadsFor, type DownloadManager } from './downloads.ts';
import { storeContext, type ChatStore } from './store.ts';
import { uploadsFor, type UploadManager } from './uploads.ts';

type Host = ReactiveControllerHost & HTMLElement;

export class TransferController implements ReactiveController {
  private readonly consumer: ContextConsumer<typeof storeContext, Host>;
  private watched: EventTarget[] = [];
  private connected = false;
  private readonly onChange = () => this.host.requestUpdate();

  constructor(private readonly host: Host, private readonly follow: { uploads?: boolean; downloads?: boolean }) {
    this.consumer = new ContextConsumer(host, { context: storeContext, subscribe: true, callback: () => this.rewatch() });
    host.addController(this);
  }

  get store(): ChatStore | undefined {
    return this.consumer.value;
  }

  get uploads(): UploadManager | undefined {
    return this.store && uploadsFor(this.store);
  }

  get downloads(): DownloadManager | undefined {
    return this.store && downloadsFor(this.store);
  }

  hostConnected(): void {
    this.connected = true;
    this.rewatch();
  }

  hostDisconnected(): void {
    this.connected = false;
    this.rewatch();
  }

  private rewatch(): void {
    for (const t of this.watched) t.removeEventListener('change', this.onChange);
    this.watched = [];
    if (!this.connected || !this.store) return;
    if (this.follow.uploads) this.watched.push(uploadsFor(this.store));
    if (this.follow.downloads) this.watched.push(downloadsFor(this.store));
    for (const t of this.watched) t.addEventListener('change', this.onChange);
    this.host.requestUpdate();
  }
}
