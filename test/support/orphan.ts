/**
 * For child processes the tests spawn (engine, workers): exit when the test process that spawned them is
 * gone. A test runner killed with SIGKILL (a suite time cap, a user's kill) cannot stop its children, which
 * then keep loading the machine and skew every benchmark run after them.
 */
export function exitWithParent(checkMs = 500): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, checkMs).unref();
}
