/** A partition's identity inside maps: "<topicId>/<partitionId>". */
export function partitionKey(topicId: number, partitionId: number): string {
  return `${topicId}/${partitionId}`;
}
