// --instances N: one load generator spread over several instances of ours on one store. Each
// instance gets its own autocannon with an equal share of the connections (as a load balancer
// with least-connections would spread them); request numbers interleave (instance i of k sends
// i, i+k, i+2k, …) so bodies that must be unique stay unique across instances. The figures are
// merged as one run: requests summed over the longest of the runs, latencies pooled.
import { drive } from './load.mjs';

export async function driveSpread(instances, options) {
  const k = instances.length;
  const share = (total, i) => Math.floor(total / k) + (i < total % k ? 1 : 0);
  const runs = await Promise.all(
    instances.map((s, i) =>
      drive(s, {
        ...options,
        connections: Math.max(1, share(options.connections, i)),
        ...(options.amount ? { amount: share(options.amount, i) } : {}),
        request: (n) => options.request(n * k + i),
      }),
    ),
  );
  const sum = (f) => runs.reduce((a, r) => a + (f(r.result) ?? 0), 0);
  const statusCodeStats = {};
  for (const r of runs)
    for (const [code, { count }] of Object.entries(r.result.statusCodeStats ?? {}))
      statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + count };
  return {
    result: {
      duration: Math.max(...runs.map((r) => r.result.duration)),
      requests: { total: sum((r) => r.requests.total) },
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      '2xx': sum((r) => r['2xx']),
      statusCodeStats,
    },
    latencies: runs.flatMap((r) => r.latencies).sort((a, b) => a - b),
    seconds: Math.max(...runs.map((r) => r.seconds)),
  };
}

/** drive() for one server, driveSpread() for ours on several instances. */
export const driveAny = (server, options) =>
  server.instances?.length > 1 ? driveSpread(server.instances, options) : drive(server, options);
