/**
 * Record of every AppManager request (control API requests are not recorded), so tests
 * can assert what a client sent — including the Authorization header it used.
 */

/** One recorded request. */
export interface RecordedRequest {
  /** 1, 2, 3, ... in arrival order. */
  seq: number;
  /** Arrival time, ISO-8601. */
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names, values verbatim (Authorization included). */
  headers: Record<string, string>;
  /** Parsed JSON/YAML body; the raw text when it did not parse; undefined when empty. */
  body: unknown;
  /** Status answered; null while pending, or when no answer was sent (hang, dropped, lost). */
  status: number | null;
  /** The fault applied, if any (`status`, `delay`, `lostResponse`, `dropRequest`, `hang`). */
  fault?: string;
  durationMs?: number;
}

/** Filter for {@link RequestLog.query}. */
export interface RequestFilter {
  method?: string;
  /** Regex tested against the path. */
  path?: string;
  /** Only entries with `seq` greater than this. */
  since?: number;
  /** At most this many (the newest). */
  limit?: number;
}

/** Bounded in-memory request log (default 10 000 entries; the oldest are dropped). */
export class RequestLog {
  private entries: RecordedRequest[] = [];
  private nextSeq = 1;

  constructor(private readonly capacity = 10_000) {}

  /** Starts an entry; the caller fills `status` etc. when the answer goes out. */
  begin(entry: Omit<RecordedRequest, 'seq' | 'status'>): RecordedRequest {
    const recorded: RecordedRequest = { seq: this.nextSeq++, status: null, ...entry };
    this.entries.push(recorded);
    if (this.entries.length > this.capacity) this.entries.shift();
    return recorded;
  }

  query(filter: RequestFilter = {}): RecordedRequest[] {
    const pathPattern = filter.path ? new RegExp(filter.path) : undefined;
    const matching = this.entries.filter(
      (e) =>
        (!filter.method || e.method === filter.method.toUpperCase()) &&
        (!pathPattern || pathPattern.test(e.path)) &&
        (filter.since === undefined || e.seq > filter.since),
    );
    return filter.limit !== undefined ? matching.slice(-filter.limit) : matching;
  }

  clear(): void {
    this.entries = [];
  }
}
