// A benchmark server stops cleanly on SIGTERM (the benchmark stops it between phases).
export function onShutdown(close: () => Promise<unknown>): void {
  process.once('SIGTERM', () => {
    void close().finally(() => process.exit(0));
  });
}
