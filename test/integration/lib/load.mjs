// Load for the "no failed request" tests: `clients` loops sending requests
// back to back (send(i), i the loop's index) until stop(). Each 200 answer is
// counted under key(res) (by default its x-backend header); every other status
// and every request that could not be made counts in `failed`.
export function startLoad(send, { clients = 4, key = (res) => res.headers['x-backend'], onResponse } = {}) {
  const seen = { failed: 0 };
  let running = true;
  const loop = async (i) => {
    while (running) {
      try {
        const res = await send(i);
        if (res.status !== 200) {
          seen.failed++;
          continue;
        }
        const k = key(res);
        seen[k] = (seen[k] ?? 0) + 1;
        onResponse?.(res);
      } catch {
        seen.failed++;
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, i) => loop(i));
  return {
    seen,
    // How many answers came under `k` so far.
    count: (k) => seen[k] ?? 0,
    // Ends the loops once their requests in flight are answered; the counts.
    async stop() {
      running = false;
      await Promise.all(loops);
      return seen;
    },
  };
}
