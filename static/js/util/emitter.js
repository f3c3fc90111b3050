// A tiny event emitter: EventTarget would do in browsers, but this keeps listeners typed by plain callbacks and works
// the same under node for the unit tests.
export class Emitter {
  #listeners = new Map();

  on(name, fn) {
    if (!this.#listeners.has(name)) this.#listeners.set(name, new Set());
    this.#listeners.get(name).add(fn);
    return () => this.#listeners.get(name)?.delete(fn);
  }

  emit(name, ...args) {
    for (const fn of [...(this.#listeners.get(name) ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        // One broken listener must not stop the others (e.g. the chat UI must still update if the grid throws).
        console.error(`listener for ${name} failed`, err);
      }
    }
  }
}
