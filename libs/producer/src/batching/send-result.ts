/** Where one message landed. */
export interface SendResult {
  partition: number;
  offset: number;
}
