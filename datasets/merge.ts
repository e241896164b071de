/**
 * k-way merge of sorted async streams into one sorted stream, holding one item per source
 * (a binary heap of heads). Use to walk many id-sorted segments as one without loading them.
 * Ties keep source order, so the result is deterministic.
 */
export async function* mergeSorted<A>(
  sources: ReadonlyArray<AsyncIterable<A>>,
  compare: (a: A, b: A) => number
): AsyncGenerator<A> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]())
  const heap: Array<{ readonly item: A; readonly source: number }> = []
  const before = (i: number, j: number) => {
    const order = compare(heap[i].item, heap[j].item)
    return order < 0 || (order === 0 && heap[i].source < heap[j].source)
  }
  const swap = (i: number, j: number) => {
    const tmp = heap[i]
    heap[i] = heap[j]
    heap[j] = tmp
  }
  const push = (entry: { readonly item: A; readonly source: number }) => {
    heap.push(entry)
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (!before(i, parent)) break
      swap(i, parent)
      i = parent
    }
  }
  const popTop = () => {
    const top = heap[0]
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      for (let i = 0; ;) {
        const left = 2 * i + 1
        const right = left + 1
        let smallest = i
        if (left < heap.length && before(left, smallest)) smallest = left
        if (right < heap.length && before(right, smallest)) smallest = right
        if (smallest === i) break
        swap(i, smallest)
        i = smallest
      }
    }
    return top
  }
  const advance = async (source: number) => {
    const next = await iterators[source].next()
    if (!next.done) push({ item: next.value, source })
  }
  try {
    for (let source = 0; source < iterators.length; source++) await advance(source)
    while (heap.length > 0) {
      const top = popTop()
      yield top.item
      await advance(top.source)
    }
  } finally {
    await Promise.all(iterators.map((iterator) => iterator.return?.()))
  }
}
