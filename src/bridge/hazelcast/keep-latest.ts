import type { EntryListener } from 'hazelcast-client';
import type { Hazelcast } from '../../connections.js';
import { coerceError } from '../../errors.js';

export interface LatestKeeperOptions {
  hazelcast: Pick<Hazelcast, 'client' | 'onChange' | 'connected'>;
  mapName: string;
  key: string;
  /** Whether the key holds a value now (one containsKey: the value is not sent). */
  present(): Promise<boolean>;
  /** Puts the newest scan Hazelcast held from this bridge back (LatestWriter.restore); false: none known. */
  restore(): boolean;
  say(level: 'info' | 'warn' | 'debug', message: string): void;
}

/**
 * Notices that Hazelcast lost the latest value, and has it put back. Two events say it may have:
 * a reconnect (a member restarted empty comes back as a new cluster, and nothing else would write
 * until the next scan, which a silent scanner never sends), and an entry listener on the key
 * (deleted, evicted, expired, or its map cleared while connected). Each costs one containsKey; no
 * timer runs while nothing happens.
 */
export class LatestKeeper {
  private listenerId: string | undefined;
  private registering: Promise<void> | undefined;
  private checking = false;
  private again = false;
  private stopped = false;
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly o: LatestKeeperOptions) {}

  start(): void {
    this.unsubscribe = this.o.hazelcast.onChange((up) => {
      if (!up || this.stopped) return;
      void this.listen();
      void this.check('connected again');
    });
    if (this.o.hazelcast.connected()) void this.listen();
  }

  /** Asks whether the key holds a value, and has the newest scan put back when it does not. */
  async check(why: string): Promise<void> {
    if (this.checking) {
      // A check is under way: one more after it sees what happened since.
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.again = false;
        if (this.stopped) return;
        let present: boolean;
        try {
          present = await this.o.present();
        } catch (err) {
          // Disconnected again: the next reconnect checks.
          this.o.say('debug', `cannot ask Hazelcast whether it holds ${this.o.key} (${coerceError(err).message}): asking on the next reconnect`);
          return;
        }
        if (!present && this.o.restore()) this.o.say('info', `${why}, Hazelcast holds no ${this.o.key}: putting the newest scan back`);
      } while (this.again);
    } finally {
      this.checking = false;
    }
  }

  /** The entry listener on the key, registered once (the client registers it again on every new connection). */
  private listen(): Promise<void> {
    if (this.listenerId !== undefined || this.stopped) return Promise.resolve();
    this.registering ??= (async () => {
      const gone = () => void this.check('the value was removed');
      const listener: EntryListener<string, string> = { removed: gone, evicted: gone, expired: gone, mapCleared: gone, mapEvicted: gone };
      try {
        const map = await this.o.hazelcast.client.getMap<string, string>(this.o.mapName);
        const id = await map.addEntryListener(listener, this.o.key, false);
        if (this.stopped) void map.removeEntryListener(id).catch(() => false);
        else this.listenerId = id;
      } catch (err) {
        this.o.say('debug', `cannot listen to ${this.o.key} yet (${coerceError(err).message}): trying again on the next reconnect`);
      } finally {
        this.registering = undefined;
      }
    })();
    return this.registering;
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    const id = this.listenerId;
    this.listenerId = undefined;
    if (id !== undefined) {
      void this.o.hazelcast.client
        .getMap<string, string>(this.o.mapName)
        .then((m) => m.removeEntryListener(id))
        .catch(() => false);
    }
  }
}
