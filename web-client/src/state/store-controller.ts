/** Gives a component the app store (from context) and re-renders it whenever the store changes. */
import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { storeContext, type ChatStore } from './store.ts';

type Host = ReactiveControllerHost & HTMLElement;

export class StoreController implements ReactiveController {
  private readonly host: Host;
  private readonly consumer: ContextConsumer<typeof storeContext, Host>;
  private subscribed: ChatStore | undefined;
  private readonly onChange = () => this.host.requestUpdate();

  constructor(host: Host) {
    this.host = host;
    this.consumer = new ContextConsumer(host, { context: storeContext, subscribe: true, callback: (s) => this.watch(s) });
    host.addController(this);
  }

  /** The store; components render nothing until it is there. */
  get store(): ChatStore | undefined {
    return this.consumer.value;
  }

  hostConnected(): void {
    if (this.consumer.value) this.watch(this.consumer.value);
  }

  hostDisconnected(): void {
    this.subscribed?.removeEventListener('change', this.onChange);
    this.subscribed = undefined;
  }

  private watch(store: ChatStore): void {
    if (this.subscribed === store) return;
    this.subscribed?.removeEventListener('change', this.onChange);
    store.addEventListener('change', this.onChange);
    this.subscribed = store;
    this.host.requestUpdate();
  }
}
