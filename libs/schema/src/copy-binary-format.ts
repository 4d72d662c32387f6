/**
 * PostgreSQL's binary COPY format (`COPY … (FORMAT binary)`), the parts both directions share: every
 * stream starts with this 11-byte signature, then an int32 of flags and an int32 header-extension
 * length. The manager writes it (COPY FROM, its syncs); the replica reads it (COPY TO, backlogs).
 */
export const COPY_BINARY_SIGNATURE: Readonly<Buffer> = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** The fixed part of the header: signature, flags, header-extension length. */
export const COPY_BINARY_HEADER_BYTES = COPY_BINARY_SIGNATURE.length + 4 + 4;
