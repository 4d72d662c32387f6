/** Hands on what `source` yields, telling `onEach` of each first: a stand-in server counts the calls on its streams. */
export async function* counted<T>(source: AsyncIterable<T>, onEach: () => void): AsyncGenerator<T> {
  for await (const item of source) {
    onEach();
    yield item;
  }
}
