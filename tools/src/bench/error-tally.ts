import { errorText } from './bench-context.js';

/** Failures seen during a measurement: how many, and the first one's text for the report. */
export class ErrorTally {
  count = 0;
  first: string | undefined;

  readonly record = (error: unknown): void => {
    this.count++;
    this.first ??= errorText(error);
  };

  /** The `errors` / `firstError` fields of a measurement line. */
  fields(): { errors: number; firstError?: string } {
    return { errors: this.count, ...(this.first === undefined ? {} : { firstError: this.first }) };
  }
}
