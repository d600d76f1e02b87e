/**
 * The checker's one schedule: a binary min-heap of items keyed by the time they are next
 * due. Each item remembers its own position (`heapIndex`, -1 when not queued), so a target
 * that is removed or answers before its deadline leaves the heap in O(log n), and the heap
 * never holds more than one entry per target (no lazy deletion, no garbage).
 */
export interface DueItem {
  /** When the item is due (a monotonic millisecond clock). */
  due: number;
  /** Position in the heap, -1 when not in it. Owned by the heap. */
  heapIndex: number;
}

export class DueHeap<T extends DueItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest item, left in place. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    if (item.heapIndex !== -1) throw new Error("DueHeap.push: item is already queued");
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  /** Takes the earliest item out. */
  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  /** Takes `item` out wherever it is; nothing when it is not queued. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    this.removeAt(i);
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private removeAt(i: number): void {
    const items = this.items;
    const gone = items[i];
    const last = items.pop()!;
    gone.heapIndex = -1;
    if (i === items.length) return; // it was the last one
    items[i] = last;
    last.heapIndex = i;
    if (i > 0 && last.due < items[(i - 1) >> 1].due) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].due <= item.due) break;
      items[i] = items[parent];
      items[i].heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && items[right].due < items[left].due ? right : left;
      if (items[child].due >= item.due) break;
      items[i] = items[child];
      items[i].heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
