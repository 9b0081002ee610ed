// Child processes started by the test helpers, killed when the test process
// exits so that a crashing run leaves no servers behind.
const liveChildren = new Set();

process.on('exit', () => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Tracks `child` until it exits. */
export function trackChild(child) {
  liveChildren.add(child);
  const forget = () => liveChildren.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}
