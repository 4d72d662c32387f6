/**
 * glibc malloc settings every role runs with. glibc reads them from the environment before any
 * JavaScript runs, so they are set by whatever starts the role: the local cluster launcher
 * (`npm start`, the benchmark, the tests) and the container images (deploy/docker). musl and
 * other allocators ignore them.
 *
 * Why: a role allocates a fresh buffer for every batch it moves (an answer read off a socket, a
 * GetUpdates or Append body, a WAL write), often 0.1-1 MB with 1 KiB messages. By default glibc
 * serves those from `mmap` and gives them back with `munmap` (or trims the heap's top), so each
 * one faults in again page by page: copying 1 MiB into a fresh buffer cost 300 µs of CPU here,
 * into one from the heap 25 µs. Allocations up to 32 MiB come from the heap, which keeps up to
 * 64 MiB free before giving memory back. Measured with 1 KiB messages (docs/performance-log.md,
 * eleventh round): page faults per message halved in every role, and the roles' CPU per message fell.
 *
 * The heap itself still faults in page by page as it grows (a fresh role, a filling tail cache),
 * and a fault of a 4 KiB page cost 15-17 µs of CPU on the project's VM. `glibc.malloc.hugetlb=1`
 * (glibc 2.35+) asks for transparent huge pages (madvise) on what malloc maps: one fault per 2 MiB
 * where the kernel allows them (THP "madvise" or "always"; with "never" nothing changes). Measured
 * on fresh clusters, pipelined 1 KiB (docs/performance-log.md, sixteenth round): brokers' CPU per
 * message down a quarter; resident memory up a few percent in brokers, up to a quarter in the manager.
 */
export const MALLOC_TUNING_ENV: Readonly<Record<string, string>> = Object.freeze({
  // 32 MiB: the largest value glibc accepts on 64-bit systems.
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024),
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
});
