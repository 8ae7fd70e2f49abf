/** A concurrency limit with a bounded wait list: past the bound, new work fails fast instead of piling up. */
import { ChatroomError } from '../../shared/errors.ts';

export class BoundedQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    /** Jobs run at once. */
    readonly maxConcurrent: number,
    /** Jobs allowed to wait; one more is refused with RATE_LIMITED (Retry-After 1 s). */
    readonly maxWaiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxWaiting) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: 1 });
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // hands this slot straight to the next waiter
      else this.running--;
    }
  }

  /** Jobs running and waiting (for tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
