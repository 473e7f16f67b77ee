// autocannon, programmatically: one phase against one server. Latencies are taken from every
// response (autocannon's 'response' event, sub-millisecond) so p50/p95/p99 are exact.
import autocannon from 'autocannon';

export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i] * 100) / 100;
}

/**
 * request(n) → { method, path, body? } builds the n-th request (n counts from 0 over all
 * connections), so bodies can be unique (a counter) or random.
 */
export function drive(server, { request, duration, amount, connections, bearer = server.token }) {
  return new Promise((resolve, reject) => {
    let n = 0;
    const latencies = [];
    // autocannon's own `duration` ticks in whole seconds when a run ends by `amount`: time it here.
    const started = performance.now();
    let last = started;
    const instance = autocannon(
      {
        url: server.origin,
        connections,
        ...(amount ? { amount } : { duration }),
        timeout: 30,
        headers: {
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/scim+json',
          accept: 'application/scim+json, application/json',
        },
        requests: [
          {
            setupRequest: (req) => {
              const r = request(n++);
              return {
                ...req,
                method: r.method,
                path: r.path,
                ...(r.body !== undefined
                  ? { body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) }
                  : {}),
              };
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        latencies.sort((a, b) => a - b);
        resolve({ result, latencies, seconds: (last - started) / 1000 });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      last = performance.now();
    });
  });
}

/** The figures of a phase: { rps, p50, p99, non2xx } (+ detail used in the progress line). */
export function summarise({ result, latencies, seconds: measured }, extraPercentiles = []) {
  // First request sent to last response received (autocannon's duration when nothing answered).
  const seconds = Math.max(latencies.length ? measured : result.duration, 0.001);
  const completed = result.requests.total;
  const rps = completed / seconds;
  const summary = {
    rps: rps >= 100 ? Math.round(rps) : Math.round(rps * 10) / 10,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    non2xx: result.non2xx + result.errors,
  };
  for (const p of extraPercentiles) summary[`p${p}`] = percentile(latencies, p);
  const codes = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, { count }]) => `${code}×${count}`);
  if (result.errors)
    codes.push(`errors×${result.errors}${result.timeouts ? ` (timeouts ${result.timeouts})` : ''}`);
  return { summary, detail: { requests: completed, seconds, codes } };
}
