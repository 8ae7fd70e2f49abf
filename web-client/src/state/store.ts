/**
 * App state and the I/O behind it: session, conversation list, messages per conversation (deduped
 * by seq), typing, presence, members, outgoing messages awaiting their ack. Components read it
 * through `storeContext` and re-render on its `change` event; they never fetch or open sockets.
 */
import { createContext } from '@lit/context';
import type {
  ConversationList,
  ConversationSummary,
  CreatedInvite,
  Member,
  ServerSummary,
  Session,
  StoredMessage,
} from '../../../src/shared/api.ts';
import type { ServerFrame } from '../../../src/shared/protocol.ts';
import { ApiError, api } from './api.ts';
import { register, signIn } from './auth.ts';
import { KEYS_EVENT, SendRefused, type BodyCodec, type DecodedBody, type MessageContent } from './body-codec.ts';
import { Connection, type ConnectionStatus } from './connection.ts';
import { E2eeCodec, WARNINGS_EVENT, type E2eeWarning, type KeyChangeNotice } from '../e2ee/groups/index.ts';
import { safetyNumber, safetyQrPayload } from '../crypto/index.ts';
import { deviceKeys, keyErrorMessage, keyStateOf, noKeysReason, NoKeysCodec, openCodec, type KeyState } from './key-gate.ts';
import { parseRoute, routePath, type Route } from './router.ts';
import { Timelines } from './timelines.ts';
import { TYPING_SHOW_MS, TypingState, type Typist } from './typing.ts';

export type { Typist };

/** Messages per history page. */
const PAGE_SIZE = 50;

/** A message we sent that the server has not acknowledged yet. */
export interface PendingMessage {
  ref: string;
  conv: string;
  content: MessageContent;
  /** Blobs the content references (attachments), declared to the server with the send. */
  blobIds?: string[];
  /** The encoded body, once the codec made it; resent as is after a reconnect. */
  body?: string;
  ts: number;
  /** Not sent, with the reason; Retry encodes again. */
  error?: string;
  /** The refusal's code when the codec refused (e.g. `send_blocked` after a changed safety number). */
  errorCode?: string;
  /** Encoding waits for keys (another member must add this device); sent when they arrive. */
  waiting?: string;
}

/** What the safety-number dialog shows for one contact. */
export interface SafetyView {
  userId: string;
  /** 60 digits, the same on both sides. */
  digits: string;
  /** The digits in 12 groups of 5. */
  groups: string[];
  /** What this user's QR code encodes (the other side scans it). */
  qr: string;
  verified: boolean;
  /** The contact's account key changed and the change is not accepted yet (the number is the new key's). */
  changed: boolean;
  /** The contact's account key these digits were computed from: only this key is verified or accepted. */
  theirKey: Uint8Array;
}

export class ChatStore extends EventTarget {
  /** True until the first GET /api/me answered. */
  booting = true;
  session: Session | null = null;
  route: Route = parseRoute(location.pathname);
  list: ConversationList = { servers: [], groups: [], dms: [] };
  connection: ConnectionStatus = 'closed';
  /** A problem to show app-wide (e.g. a failed invite accept). */
  notice: string | null = null;
  /** This user's end-to-end keys in this browser (key-gate.ts); the chat waits while it is checking, new-key or restore. */
  keys: KeyState = { name: 'checking' };
  /** The chat (socket, conversation list) has started for this session. */
  private chatStarted = false;

  private readonly byId = new Map<string, ConversationSummary>();
  private readonly timelines = new Timelines();
  private readonly typingState = new TypingState();
  private readonly online = new Map<string, boolean>();
  private readonly memberLists = new Map<string, Member[]>();
  private readonly loadingMembers = new Set<string>();
  private readonly pending = new Map<string, PendingMessage>();
  /** What each message body decoded to, per conversation and seq (absent while decoding). */
  private readonly decoded = new Map<string, Map<number, DecodedBody>>();
  /** Reads and writes bodies: the end-to-end codec once this browser's keys are ready, else one that refuses. */
  private codec: BodyCodec = new NoKeysCodec(noKeysReason({ name: 'checking' })!);
  private readonly onKeys = () => this.keysArrived();
  private readonly onWarnings = () => void this.refreshTrust();
  /** Contacts whose account key changed (sending to them is blocked until accepted). */
  private keyChangeList: KeyChangeNotice[] = [];
  /** Contacts whose current account key this user verified. */
  private readonly verifiedUsers = new Set<string>();
  private refCounter = 0;
  /** Conversations this user is leaving on purpose: losing them needs no notice. */
  private readonly leaving = new Set<string>();
  private readonly socket = new Connection({
    frame: (f) => this.onFrame(f),
    status: (s) => this.onStatus(s),
    signedOut: () => this.reset('You were signed out.'),
  });

  /** Asks the server who we are, then routes. */
  async boot(): Promise<void> {
    addEventListener('popstate', () => this.applyRoute(parseRoute(location.pathname)));
    document.addEventListener('visibilitychange', () => this.markActiveRead());
    try {
      this.session = await api.me();
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) this.notice = messageOf(err);
      this.session = null;
    }
    this.booting = false;
    if (this.session) await this.enter();
    else this.changed();
  }

  // ------------------------------------------------------------------ session

  /** Creates the account, then its end-to-end keys; the recovery key screen follows. */
  async register(username: string, password: string, invite?: string): Promise<void> {
    this.session = await register(username, password, invite);
    this.route = { name: 'home' };
    history.replaceState(null, '', '/');
    await this.createKeys();
  }

  async signIn(username: string, password: string): Promise<void> {
    this.session = await signIn(username, password);
    if (this.route.name === 'signin' || this.route.name === 'setup') {
      this.route = { name: 'home' };
      history.replaceState(null, '', '/');
    }
    await this.enter();
  }

  /** After a sign-in or a reload: the chat, unless this browser first needs the account's keys. */
  private async enter(): Promise<void> {
    const userId = this.session!.user.id;
    this.keys = { name: 'checking' };
    this.changed();
    try {
      const check = await (await deviceKeys()).check(userId);
      if (this.session?.user.id !== userId) return;
      this.keys = keyStateOf(check);
    } catch (err) {
      if (this.session?.user.id !== userId) return;
      this.keys = { name: 'unavailable', reason: keyErrorMessage(err) };
    }
    if (this.keys.name === 'restore' || this.keys.name === 'new-key') this.changed();
    else await this.startChat();
  }

  /** Makes this account's end-to-end keys (at sign-up, or later for an account that has none). */
  async createKeys(): Promise<void> {
    const userId = this.session!.user.id;
    this.keys = { name: 'checking' };
    this.changed();
    try {
      const made = await (await deviceKeys()).create(userId);
      if (this.session?.user.id !== userId) return;
      this.keys = { name: 'new-key', ...made };
      this.changed();
    } catch (err) {
      if (this.session?.user.id !== userId) return;
      this.keys = { name: 'unavailable', reason: keyErrorMessage(err) };
      await this.startChat();
    }
  }

  /**
   * Leaves the recovery key screen; with a passphrase, first wraps the backup under it too
   * (Argon2id in a Worker: seconds). Throws (staying on the screen) when that fails.
   */
  async finishKeySetup(passphrase: string): Promise<void> {
    if (this.keys.name !== 'new-key') return;
    const { deviceId } = this.keys;
    try {
      const keys = await deviceKeys();
      if (passphrase) await keys.setPassphrase(this.session!.user.id, passphrase);
      await keys.finishSetup(this.session!.user.id);
    } catch (err) {
      throw new Error(keyErrorMessage(err));
    }
    this.keys = { name: 'ready', deviceId };
    await this.startChat();
  }

  /** Unlocks the account's keys on this browser from the server backup; throws a sentence on failure. */
  async restoreKeys(secret: { recoveryKey: string } | { passphrase: string }): Promise<void> {
    const userId = this.session!.user.id;
    const keys = await deviceKeys();
    let deviceId: string;
    try {
      deviceId = 'recoveryKey' in secret ? await keys.restoreWithRecoveryKey(userId, secret.recoveryKey) : await keys.restoreWithPassphrase(userId, secret.passphrase);
    } catch (err) {
      throw new Error(keyErrorMessage(err));
    }
    this.keys = { name: 'ready', deviceId };
    await this.startChat();
  }

  /** This user's devices (GET /api/mls/devices). */
  async ownDevices() {
    return (await deviceKeys()).devices();
  }

  /** Removes another device of this user (it needs the recovery key to come back). */
  async removeDevice(deviceId: string): Promise<void> {
    await (await deviceKeys()).removeDevice(deviceId);
  }

  /** Refills this device's KeyPackages in the background once the chat runs (never blocks it). */
  private refillKeyPackages(): void {
    const userId = this.session?.user.id;
    if (!userId || this.keys.name !== 'ready') return;
    deviceKeys()
      .then((keys) => keys.topUp(userId))
      .catch((err: unknown) => {
        if (this.session?.user.id !== userId) return;
        this.notice = `This browser could not refill its end-to-end key packages; it will try again next time. (${keyErrorMessage(err)})`;
        this.changed();
      });
  }

  /** The end-to-end codec when this browser's keys are ready; otherwise one that neither sends nor reads. */
  private async chooseCodec(): Promise<void> {
    const userId = this.session?.user.id;
    if (!userId) return;
    if (this.keys.name === 'ready') {
      if (this.codec instanceof E2eeCodec && this.codec.userId === userId) return;
      try {
        const codec = await openCodec(userId);
        if (this.session?.user.id !== userId) {
          codec.close();
          return;
        }
        this.useCodec(codec);
        void this.refreshTrust();
        return;
      } catch (err) {
        this.keys = { name: 'unavailable', reason: keyErrorMessage(err) };
      }
    }
    this.useCodec(new NoKeysCodec(noKeysReason(this.keys)!));
  }

  private async startChat(): Promise<void> {
    await this.chooseCodec();
    this.refillKeyPackages();
    if (this.chatStarted) {
      this.changed();
      return;
    }
    this.chatStarted = true;
    await this.afterSignIn();
  }

  async signOut(): Promise<void> {
    try {
      await api.logout();
    } finally {
      this.reset(null);
    }
  }

  async signOutOthers(): Promise<void> {
    await api.logoutOthers();
  }

  private async afterSignIn(): Promise<void> {
    const route = this.route;
    if (route.name === 'invite') {
      // Signed in already: the invite adds this account to the invite's server.
      try {
        await api.acceptInvite(route.token);
      } catch (err) {
        this.notice = messageOf(err);
      }
      this.route = { name: 'home' };
      history.replaceState(null, '', '/');
    } else if (route.name === 'setup' || route.name === 'signin') {
      this.route = { name: 'home' };
      history.replaceState(null, '', '/');
    }
    this.socket.start();
    await this.refreshList();
    this.applyRoute(this.route);
  }

  private reset(notice: string | null): void {
    this.socket.stop();
    this.session = null;
    this.keys = { name: 'checking' };
    this.chatStarted = false;
    this.list = { servers: [], groups: [], dms: [] };
    this.byId.clear();
    this.timelines.clear();
    this.typingState.clear();
    this.memberLists.clear();
    this.pending.clear();
    this.decoded.clear();
    this.useCodec(new NoKeysCodec(noKeysReason(this.keys)!));
    this.keyChangeList = [];
    this.verifiedUsers.clear();
    this.leaving.clear();
    this.notice = notice;
    this.navigate({ name: 'signin' }, true);
  }

  get isSignedIn(): boolean {
    return this.session !== null;
  }

  // ------------------------------------------------------------------ navigation

  navigate(route: Route, replace = false): void {
    const path = routePath(route);
    if (path !== location.pathname) {
      if (replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    this.applyRoute(route);
  }

  private applyRoute(route: Route): void {
    this.route = route;
    if (this.session && route.name === 'home') {
      const first = this.list.servers[0]?.channels[0] ?? this.list.groups[0] ?? this.list.dms[0];
      if (first) {
        this.navigate({ name: 'conv', id: first.id }, true);
        return;
      }
    }
    if (this.session && route.name === 'conv') void this.openConversation(route.id);
    this.changed();
  }

  get activeId(): string | null {
    return this.route.name === 'conv' ? this.route.id : null;
  }

  get active(): ConversationSummary | undefined {
    const id = this.activeId;
    return id ? this.byId.get(id) : undefined;
  }

  /** The server the open conversation belongs to, if it is a channel. */
  get activeServer(): ServerSummary | undefined {
    const serverId = this.active?.serverId;
    return serverId ? this.list.servers.find((s) => s.id === serverId) : undefined;
  }

  // ------------------------------------------------------------------ conversations

  async refreshList(): Promise<void> {
    const list = await api.conversations();
    this.list = list;
    this.byId.clear();
    for (const server of list.servers) {
      for (const ch of server.channels) this.byId.set(ch.id, { ...ch, serverId: ch.serverId ?? server.id });
    }
    for (const c of [...list.groups, ...list.dms]) this.byId.set(c.id, c);
    for (const c of this.byId.values()) this.socket.subscribe(c.id, Math.max(c.head, this.timelines.newest(c.id)));
    // The fresh list carries the server's unread counts; a read sent before the socket was open
    // (dropped) or still in flight is not in them yet, so mark the open conversation read again.
    if (this.activeId && this.timelines.loaded(this.activeId)) this.markActiveRead();
    this.changed();
  }

  /** Drops a conversation we lost access to, so nothing (e.g. the home route) opens it again. */
  private forget(id: string): void {
    this.byId.delete(id);
    this.memberLists.delete(id);
    this.timelines.drop(id);
    this.decoded.delete(id);
    this.list = {
      servers: this.list.servers
        .map((s) => ({ ...s, channels: s.channels.filter((c) => c.id !== id) }))
        .filter((s) => s.channels.length > 0),
      groups: this.list.groups.filter((c) => c.id !== id),
      dms: this.list.dms.filter((c) => c.id !== id),
    };
  }

  conversation(id: string): ConversationSummary | undefined {
    return this.byId.get(id);
  }

  private async openConversation(id: string): Promise<void> {
    if (!this.byId.has(id)) return;
    if (!this.timelines.loaded(id)) await this.loadPage(id, undefined);
    void this.loadMembers(id);
    this.markActiveRead();
  }

  messagesOf(conv: string): StoredMessage[] {
    return this.timelines.list(conv);
  }

  /** What a message's body says, or undefined while it is being decrypted. */
  decodedOf(conv: string, seq: number): DecodedBody | undefined {
    return this.decoded.get(conv)?.get(seq);
  }

  /** True when this conversation's messages are end-to-end encrypted on this device. */
  get encrypted(): boolean {
    return this.codec.encrypted;
  }

  hasMore(conv: string): boolean {
    return this.timelines.hasMore(conv);
  }

  isLoading(conv: string): boolean {
    return this.timelines.isLoading(conv);
  }

  /** Loads the page before the oldest message held (pages back when scrolled to the top). */
  async loadOlder(conv: string): Promise<void> {
    if (!this.timelines.hasMore(conv) || this.timelines.isLoading(conv)) return;
    await this.loadPage(conv, this.timelines.oldest(conv));
  }

  private async loadPage(conv: string, before: number | undefined): Promise<void> {
    this.timelines.setLoading(conv, true);
    this.changed();
    try {
      const page = await api.history(conv, before, PAGE_SIZE);
      for (const m of page.messages) this.addMessage(m);
      this.timelines.setHasMore(conv, page.hasMore);
      const newest = this.timelines.newest(conv);
      this.socket.subscribe(conv, newest);
      this.socket.seen(conv, newest);
    } catch (err) {
      this.notice = messageOf(err);
    } finally {
      this.timelines.setLoading(conv, false);
      this.changed();
    }
  }

  /** Adds to the timeline and moves the conversation's head; false for a duplicate. */
  private addMessage(m: StoredMessage, known?: DecodedBody): boolean {
    if (!this.timelines.add(m)) return false;
    const c = this.byId.get(m.conv);
    if (c && m.seq > c.head) c.head = m.seq;
    if (known) this.setDecoded(m.conv, m.seq, known);
    else this.decodeMessage(m);
    return true;
  }

  private setDecoded(conv: string, seq: number, d: DecodedBody): void {
    let map = this.decoded.get(conv);
    if (!map) this.decoded.set(conv, (map = new Map()));
    map.set(seq, d);
  }

  private decodeMessage(m: StoredMessage): void {
    const codec = this.codec;
    void codec.decode(m.conv, m).then((d) => {
      if (codec !== this.codec || !this.timelines.has(m.conv, m.seq)) return;
      this.setDecoded(m.conv, m.seq, d);
      this.changed();
    });
  }

  /** Switches the body codec (sign-in with keys, sign-out); every held message is decoded again. */
  private useCodec(codec: BodyCodec): void {
    if (codec === this.codec) return;
    this.codec.removeEventListener(KEYS_EVENT, this.onKeys);
    this.codec.removeEventListener(WARNINGS_EVENT, this.onWarnings);
    this.codec.close();
    this.codec = codec;
    codec.addEventListener(KEYS_EVENT, this.onKeys);
    codec.addEventListener(WARNINGS_EVENT, this.onWarnings);
    this.decoded.clear();
    for (const conv of this.timelines.conversations()) for (const m of this.timelines.list(conv)) this.decodeMessage(m);
  }

  /** New keys: retry what could not be decrypted yet, and sends that waited for them. */
  private keysArrived(): void {
    for (const [conv, map] of this.decoded) {
      for (const [seq, d] of map) {
        if (d.ok || !d.retryable) continue;
        const m = this.timelines.get(conv, seq);
        if (m) this.decodeMessage(m);
      }
    }
    for (const p of this.pending.values()) if (p.waiting) void this.transmit(p);
  }

  async createDm(username: string): Promise<void> {
    const c = await api.createDm(username);
    await this.refreshList();
    this.navigate({ name: 'conv', id: c.id });
  }

  async createGroup(name: string, members: string[]): Promise<void> {
    const c = await api.createGroup(name, members);
    await this.refreshList();
    this.navigate({ name: 'conv', id: c.id });
  }

  async createServer(name: string): Promise<void> {
    const s = await api.createServer(name);
    await this.refreshList();
    const general = s.channels[0];
    if (general) this.navigate({ name: 'conv', id: general.id });
  }

  async createChannel(serverId: string, name: string): Promise<void> {
    const c = await api.createChannel(serverId, name);
    await this.refreshList();
    this.navigate({ name: 'conv', id: c.id });
  }

  /** True when this user may create invites (instance or some server owner/admin). */
  get canInvite(): boolean {
    return isManager(this.session?.user.role) || this.list.servers.some((s) => isManager(s.role));
  }

  /**
   * An invite to the open conversation's server (or the first server this user manages): a
   * server invite when we manage the server, else an instance invite naming it.
   */
  async createInvite(): Promise<CreatedInvite> {
    const server = this.activeServer ?? this.list.servers.find((s) => isManager(s.role));
    if (server && isManager(server.role)) return api.createServerInvite(server.id);
    return api.createInstanceInvite(server?.id);
  }

  // ------------------------------------------------------------------ membership

  /** Adds someone to a group by username (the server decides whether this user may). */
  async addGroupMember(groupId: string, username: string): Promise<void> {
    await api.addGroupMember(groupId, username);
    if (groupId === this.activeId) await this.loadMembers(groupId);
  }

  /** Leaves a group and closes it. */
  async leaveGroup(groupId: string): Promise<void> {
    await this.leaveAll([groupId], () => api.leaveGroup(groupId));
  }

  /** Leaves a server (all its channels) and closes its open channel. The owner cannot leave. */
  async leaveServer(serverId: string): Promise<void> {
    const channels = this.list.servers.find((s) => s.id === serverId)?.channels.map((c) => c.id) ?? [];
    await this.leaveAll(channels, () => api.leaveServer(serverId));
  }

  private async leaveAll(ids: string[], leave: () => Promise<void>): Promise<void> {
    for (const id of ids) this.leaving.add(id);
    try {
      await leave();
    } catch (err) {
      for (const id of ids) this.leaving.delete(id);
      throw err;
    }
    for (const id of ids) {
      this.socket.unsubscribe(id);
      this.forget(id);
    }
    if (this.activeId && ids.includes(this.activeId)) this.navigate({ name: 'home' }, true);
    await this.refreshList();
    // The server's `conversations { removed }` frames may come before or after this point.
    for (const id of ids) if (!this.byId.has(id)) this.leaving.delete(id);
  }

  /** True when this user may kick or ban `member` from the open conversation's server. */
  canModerate(member: Member): boolean {
    const server = this.activeServer;
    if (!server || !isManager(server.role) || member.id === this.session?.user.id) return false;
    if (member.role === 'owner') return false;
    return member.role !== 'admin' || server.role === 'owner';
  }

  /** Removes a member from the open conversation's server; `ban` also keeps them from rejoining. */
  async removeFromServer(userId: string, ban: boolean): Promise<void> {
    const server = this.activeServer;
    if (!server) throw new Error('Open a channel of the server first.');
    await (ban ? api.ban(server.id, userId) : api.kick(server.id, userId));
    if (this.activeId) await this.loadMembers(this.activeId);
  }

  // ------------------------------------------------------------------ sending, typing, reading

  /** Sends a text message; it shows as pending until the server's ack. */
  send(conv: string, text: string): void {
    this.sendContent(conv, { kind: 'text', text });
  }

  /** Sends any content (an attachment names its uploaded `blobIds`); pending until the ack. */
  sendContent(conv: string, content: MessageContent, blobIds?: string[]): PendingMessage {
    const ref = `m${Date.now().toString(36)}${(this.refCounter++).toString(36)}`;
    const p: PendingMessage = { ref, conv, content, ts: Date.now(), ...(blobIds?.length ? { blobIds } : {}) };
    this.pending.set(ref, p);
    this.typingState.sent(conv);
    void this.transmit(p);
    this.changed();
    return p;
  }

  /** Encodes (once) and sends a pending message; a refusal becomes its error or its wait. */
  private async transmit(p: PendingMessage): Promise<void> {
    if (p.body === undefined) {
      const codec = this.codec;
      try {
        const body = await codec.encode(p.conv, p.content);
        // Keys changed meanwhile (sign-out, or keys just unlocked): encode again with the codec now in use.
        if (codec !== this.codec) {
          if (this.pending.get(p.ref) === p) void this.transmit(p);
          return;
        }
        p.body = body;
        p.waiting = undefined;
      } catch (err) {
        if (codec !== this.codec) {
          if (this.pending.get(p.ref) === p) void this.transmit(p);
          return;
        }
        if (err instanceof SendRefused && err.waiting) {
          p.waiting = err.message;
        } else {
          p.waiting = undefined;
          p.error = err instanceof Error ? err.message : String(err);
          if (err instanceof SendRefused) p.errorCode = err.code;
          if (p.errorCode === 'send_blocked') void this.refreshTrust();
        }
        if (this.pending.get(p.ref) === p) this.changed();
        return;
      }
      this.changed();
    }
    if (this.pending.get(p.ref) !== p || p.error) return;
    this.socket.send({ t: 'send', ref: p.ref, conv: p.conv, body: p.body, ...(p.blobIds ? { blobIds: p.blobIds } : {}) });
  }

  pendingOf(conv: string): PendingMessage[] {
    return [...this.pending.values()].filter((p) => p.conv === conv);
  }

  /** Retries (or discards, when `discard`) a message that failed. */
  retry(ref: string, discard = false): void {
    const p = this.pending.get(ref);
    if (!p) return;
    this.pending.delete(ref);
    if (!discard) this.sendContent(p.conv, p.content, p.blobIds);
    else this.changed();
  }

  /** Tells the others we are typing (throttled; see typing.ts). */
  typing(conv: string): void {
    if (this.typingState.shouldAnnounce(conv) && this.socket.send({ t: 'typing', conv })) this.typingState.announced(conv);
  }

  typistsOf(conv: string): Typist[] {
    return this.typingState.typists(conv, this.session?.user.id);
  }

  /** Marks the open conversation read while the page is visible. */
  markActiveRead(): void {
    const c = this.active;
    if (!c || document.visibilityState !== 'visible') return;
    const seq = Math.max(this.timelines.newest(c.id), c.head);
    if (seq <= c.lastRead && c.unread === 0) return;
    c.lastRead = Math.max(c.lastRead, seq);
    c.unread = 0;
    if (seq > 0) this.socket.send({ t: 'read', conv: c.id, seq });
    this.changed();
  }

  unreadOf(conv: string): number {
    return this.byId.get(conv)?.unread ?? 0;
  }

  // ------------------------------------------------------------------ members and presence

  membersOf(conv: string): Member[] {
    return (this.memberLists.get(conv) ?? []).map((m) => ({ ...m, online: this.online.get(m.id) ?? m.online }));
  }

  /** Someone we have not listed spoke or came online in a listed conversation: they joined. */
  private noticeMember(conv: string, user: string): void {
    const list = this.memberLists.get(conv);
    if (!list || list.some((m) => m.id === user) || this.loadingMembers.has(conv)) return;
    if (conv === this.activeId) void this.loadMembers(conv);
  }

  private async loadMembers(conv: string): Promise<void> {
    this.loadingMembers.add(conv);
    try {
      const { members } = await api.members(conv);
      this.memberLists.set(conv, members);
      for (const m of members) this.online.set(m.id, m.online);
      void this.refreshTrust();
      this.changed();
    } catch {
      // The member list is secondary; the conversation stays usable without it.
    } finally {
      this.loadingMembers.delete(conv);
    }
  }

  // ------------------------------------------------------------------ frames

  private onStatus(status: ConnectionStatus): void {
    this.connection = status;
    if (status === 'open') {
      this.codec.onConnected();
      for (const p of this.pending.values()) if (p.body !== undefined && !p.error) void this.transmit(p);
      // The list may have changed while we were away (new DMs, groups, channels).
      if (this.session) void this.refreshList().catch(() => undefined);
    }
    this.changed();
  }

  private onFrame(f: ServerFrame): void {
    this.codec.onFrame(f);
    // A commit (this device's own included) may have pinned a changed account key; reading the pins is cheap.
    if (f.t.startsWith('mls.')) void this.refreshTrust();
    switch (f.t) {
      case 'msg': {
        const c = this.byId.get(f.conv);
        // A fresh conversation list may already count this message in head/unread.
        const beyondHead = !c || f.seq > c.head;
        if (!this.addMessage(f)) return;
        this.typingState.stopped(f.conv, f.sender);
        this.noticeMember(f.conv, f.sender);
        if (c && beyondHead && f.sender !== this.session?.user.id && f.seq > c.lastRead) {
          if (f.conv === this.activeId && document.visibilityState === 'visible') {
            this.markActiveRead();
          } else {
            c.unread += 1;
          }
        }
        break;
      }
      case 'ack': {
        const p = this.pending.get(f.ref);
        if (!p) return;
        this.pending.delete(f.ref);
        const me = this.session?.user;
        if (me && p.body !== undefined) {
          this.addMessage({ conv: f.conv, seq: f.seq, sender: me.id, senderName: me.username, ts: f.ts, body: p.body }, { ok: true, content: p.content });
        }
        this.socket.seen(f.conv, f.seq);
        const c = this.byId.get(f.conv);
        if (c && f.conv === this.activeId) this.markActiveRead();
        break;
      }
      case 'typing': {
        this.typingState.heard(f.conv, f.user, f.username);
        setTimeout(() => this.changed(), TYPING_SHOW_MS + 50);
        break;
      }
      case 'presence':
        this.online.set(f.user, f.online);
        if (this.activeId) this.noticeMember(this.activeId, f.user);
        break;
      case 'read': {
        const c = this.byId.get(f.conv);
        if (!c) return;
        c.lastRead = Math.max(c.lastRead, f.seq);
        c.unread = f.seq >= c.head ? 0 : Math.min(c.unread, c.head - f.seq);
        break;
      }
      case 'conversations':
        if (f.removed) {
          this.socket.unsubscribe(f.removed);
          const lost = this.byId.get(f.removed);
          const serverName = this.list.servers.find((s) => s.id === lost?.serverId)?.name;
          const onPurpose = this.leaving.delete(f.removed);
          this.forget(f.removed);
          if (f.removed === this.activeId) {
            if (!onPurpose) this.notice = removedNotice(lost, serverName);
            this.navigate({ name: 'home' }, true);
          }
        }
        void this.refreshList().catch(() => undefined);
        if (this.activeId && this.activeId !== f.removed) void this.loadMembers(this.activeId);
        break;
      case 'error':
        if (f.ref && this.pending.has(f.ref)) this.pending.get(f.ref)!.error = f.message;
        else this.notice = f.message;
        break;
      case 'subscribed':
      case 'pong':
        return;
    }
    this.changed();
  }

  // ------------------------------------------------------------------ end-to-end trust

  /**
   * Why this browser cannot send at all (no end-to-end keys here, or they cannot be used), with
   * what to do; undefined when it can.
   */
  get sendBlock(): string | undefined {
    return this.codec.encrypted ? undefined : noKeysReason(this.keys.name === 'ready' ? { name: 'checking' } : this.keys);
  }

  /** Members of `conv` whose account key changed since it was pinned: sending there is refused until accepted. */
  keyChangesIn(conv: string): Array<{ userId: string; username: string }> {
    const members = this.memberLists.get(conv) ?? [];
    return this.keyChangeList
      .filter((k) => members.some((m) => m.id === k.userId))
      .map((k) => ({ userId: k.userId, username: members.find((m) => m.id === k.userId)?.username ?? k.username ?? 'Someone' }));
  }

  /** True when this user compared `userId`'s safety number for their current account key. */
  isVerified(userId: string): boolean {
    return this.verifiedUsers.has(userId);
  }

  /** Devices, packages, Welcomes or commits the end-to-end layer refused in `conv` (the server-as-adversary cases). */
  warningsIn(conv: string): E2eeWarning[] {
    return this.codec instanceof E2eeCodec ? this.codec.warnings.filter((w) => w.conv === conv) : [];
  }

  /** The safety number with `userId` (computed here from both account keys; ~5,200 SHA-512 rounds each). */
  async safetyNumberWith(userId: string): Promise<SafetyView> {
    const codec = this.e2ee();
    const inputs = await codec.safetyInputs(userId);
    const n = safetyNumber(inputs.me, inputs.them);
    return {
      userId,
      digits: n.digits,
      groups: n.groups,
      qr: safetyQrPayload(inputs.me, inputs.them),
      verified: inputs.verified,
      changed: inputs.changed,
      theirKey: inputs.them.accountKey,
    };
  }

  /** Records that the safety number with `userId`, computed from `theirKey`, was compared (the verified badge). */
  async markVerified(userId: string, theirKey: Uint8Array): Promise<void> {
    await this.e2ee().markVerified(userId, theirKey);
    await this.refreshTrust();
  }

  /**
   * Accepts `userId`'s new account key: sending to conversations with them works again; messages
   * refused meanwhile are sent now.
   */
  async acceptKeyChange(userId: string, theirKey: Uint8Array): Promise<void> {
    if (!(await this.e2ee().acknowledgeKeyChange(userId, theirKey))) {
      throw new Error('Their key changed again while this was open. Compare the new number before accepting it.');
    }
    await this.refreshTrust();
    const blocked = [...this.pending.values()].filter((p) => p.errorCode === 'send_blocked' && this.keyChangesIn(p.conv).length === 0);
    for (const p of blocked) this.retry(p.ref);
  }

  private e2ee(): E2eeCodec {
    if (!(this.codec instanceof E2eeCodec)) throw new Error(noKeysReason(this.keys) ?? 'End-to-end encryption is not ready in this browser yet.');
    return this.codec;
  }

  /**
   * Re-reads key changes, and the verified badges of the open conversation's members (the only
   * ones on screen), from the codec. Calls while one runs are coalesced into one more run.
   */
  private refreshTrust(): Promise<void> {
    if (this.trustRun) {
      this.trustAgain = true;
      return this.trustRun;
    }
    this.trustRun = (async () => {
      try {
        do {
          this.trustAgain = false;
          // Badges and banners are read again on the next event; a failed read keeps the last ones.
          await this.readTrust().catch(() => undefined);
        } while (this.trustAgain);
      } finally {
        this.trustRun = undefined;
      }
    })();
    return this.trustRun;
  }

  private trustRun: Promise<void> | undefined;
  private trustAgain = false;

  private async readTrust(): Promise<void> {
    const codec = this.codec;
    if (!(codec instanceof E2eeCodec)) return;
    const changes = await codec.keyChanges();
    const ids = (this.activeId ? this.memberLists.get(this.activeId) ?? [] : []).map((m) => m.id).filter((id) => id !== this.session?.user.id);
    const verified = new Set<string>();
    for (const id of ids) if (await codec.isVerified(id)) verified.add(id);
    if (codec !== this.codec) return;
    this.keyChangeList = changes;
    this.verifiedUsers.clear();
    for (const id of verified) this.verifiedUsers.add(id);
    this.changed();
  }

  dismissNotice(): void {
    this.notice = null;
    this.changed();
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}

function isManager(role: string | undefined): boolean {
  return role === 'owner' || role === 'admin';
}

/** What to tell someone whose open conversation was taken away (kicked, banned, removed). */
function removedNotice(c: ConversationSummary | undefined, serverName: string | undefined): string {
  if (!c) return 'You no longer have access to that conversation, so it was closed.';
  if (c.kind === 'channel') return `You were removed from ${serverName ?? 'the server'}, so #${c.name} was closed.`;
  return `You no longer have access to ${c.name}, so it was closed.`;
}

/** A readable message for any thrown value (the API's `error.message` when there is one). */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}

/** The app-wide store, provided by <chat-app>. */
export const storeContext = createContext<ChatStore>(Symbol('chat-store'));
