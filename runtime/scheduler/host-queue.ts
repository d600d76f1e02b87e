/**
 * Candidate hosts in preference order: more soft rules satisfied, then fewest instances of
 * this service, then fewest instances in total, then the seeded tie-break, then snapshot
 * order. A binary heap, so each placement costs O(log hosts) rather than a scan.
 */
export class HostQueue {
  /** Per host position: the sort keys. */
  readonly soft: Int32Array;
  readonly ofService: Int32Array;
  readonly total: Int32Array;
  readonly tie: Uint32Array;
  private readonly heap: Int32Array;
  private size = 0;

  constructor(hostCount: number) {
    this.soft = new Int32Array(hostCount);
    this.ofService = new Int32Array(hostCount);
    this.total = new Int32Array(hostCount);
    this.tie = new Uint32Array(hostCount);
    this.heap = new Int32Array(hostCount);
  }

  get length(): number {
    return this.size;
  }

  /** Whether host a is preferred to host b. */
  private better(a: number, b: number): boolean {
    if (this.soft[a] !== this.soft[b]) return this.soft[a] > this.soft[b];
    if (this.ofService[a] !== this.ofService[b]) return this.ofService[a] < this.ofService[b];
    if (this.total[a] !== this.total[b]) return this.total[a] < this.total[b];
    if (this.tie[a] !== this.tie[b]) return this.tie[a] < this.tie[b];
    return a < b;
  }

  /** Adds hosts without ordering them; call heapify() once after. */
  append(host: number): void {
    this.heap[this.size++] = host;
  }

  heapify(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The preferred host, or -1 when there is none. */
  top(): number {
    return this.size > 0 ? this.heap[0] : -1;
  }

  /** Re-orders after the top host's keys changed. */
  topChanged(): void {
    this.siftDown(0);
  }

  removeTop(): void {
    this.heap[0] = this.heap[--this.size];
    this.siftDown(0);
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = this.size;
    const item = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.better(heap[r], heap[l]) ? r : l;
      if (!this.better(heap[c], item)) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = item;
  }
}
