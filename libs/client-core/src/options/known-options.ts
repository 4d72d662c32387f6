import type { ClientErrors } from '../errors/client-failure.js';

/** Refuses an options (or message) object that names something the API does not know. */
export type KnownOptionsCheck = (given: object, known: readonly string[], what: string) => void;

/**
 * The check bound to one client's error class: INVALID_ARGUMENT naming the unknown option. TypeScript
 * refuses a misspelt option at compile time; from JavaScript, `{ partiton: 2 }` or `{ form: 'earliest' }`
 * would otherwise be ignored and the call made with the default.
 */
export function knownOptionsCheck<E extends Error>(errors: Pick<ClientErrors<E>, 'fromFailure'>): KnownOptionsCheck {
  return (given, known, what) => {
    // for...in over the usual small literal: no array of keys is built on the send() path.
    for (const key in given) {
      if (!Object.hasOwn(given, key) || known.includes(key)) continue;
      throw errors.fromFailure({ code: 'INVALID_ARGUMENT', message: `${what}: "${key}" is not one of ${known.join(', ')}` });
    }
  };
}

/**
 * The option names of `T`, from a record the compiler holds to exactly `T`'s keys: an option added
 * to the interface and not here, or the other way round, does not build.
 */
export function optionNames<T extends object>(names: Record<keyof T, true>): readonly string[] {
  return Object.keys(names);
}
