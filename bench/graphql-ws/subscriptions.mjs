// Holds CONNECTIONS x PER_CONNECTION subscriptions (`companyCreated`) on the local runner through graphql-ws, creates
// EVENTS companies through POST /graphql, and reports how many deliveries arrived and how long each took (from the
// mutation being sent to the message reaching the client). Prints one JSON object.
// Usage: HUBBLE_BASE=http://127.0.0.1:8080 HUBBLE_KEY=hw_... node subscriptions.mjs
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.HUBBLE_BASE;
const key = process.env.HUBBLE_KEY;
const connections = Number(process.env.CONNECTIONS || 100);
const perConnection = Number(process.env.PER_CONNECTION || 10);
const events = Number(process.env.EVENTS || 5);
const total = connections * perConnection;
const wsUrl = base.replace(/^http/, 'ws') + '/graphql/ws';
const received = new Map(); // company name -> array of receipt times
const sentAt = new Map();
let errors = 0;

const clients = [];
const connected = [];
for (let c = 0; c < connections; c++) {
  let ok;
  connected.push(new Promise((resolve) => { ok = resolve; }));
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${key}` }, lazy: false, retryAttempts: 0,
    onNonLazyError: () => { errors += 1; ok(); } });
  client.on('connected', () => ok());
  clients.push(client);
  for (let s = 0; s < perConnection; s++) {
    client.subscribe({ query: 'subscription { companyCreated { name } }' }, {
      next: (v) => {
        const name = v?.data?.companyCreated?.name;
        if (!received.has(name)) received.set(name, []);
        received.get(name).push(performance.now());
      },
      error: (e) => { errors += 1; if (errors === 1) console.error("first error:", JSON.stringify(e)); },
      complete: () => {},
    });
  }
}
await Promise.all(connected);
await new Promise((r) => setTimeout(r, Number(process.env.SETTLE_MS || 5000))); // every subscribe message read by the server
const started = performance.now();
for (let i = 0; i < events; i++) {
  const name = `bench-${Date.now()}-${i}`;
  sentAt.set(name, performance.now());
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: `mutation { createCompany(input: {name: "${name}"}) { id } }` }) });
  const body = await res.json();
  if (body.errors) { console.error(JSON.stringify(body.errors)); process.exit(1); }
}
const deadline = performance.now() + 30000;
const delivered = () => [...received.entries()].filter(([n]) => sentAt.has(n)).reduce((a, [, t]) => a + t.length, 0);
while (delivered() < total * events && performance.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
}
const latencies = [];
for (const [name, times] of received) {
  if (!sentAt.has(name)) continue;
  for (const t of times) latencies.push(t - sentAt.get(name));
}
latencies.sort((a, b) => a - b);
const q = (p) => latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]) : null;
const perEvent = [...sentAt.keys()].map((n) => (received.get(n) || []).length);
console.log(JSON.stringify({ per_event: perEvent, subscriptions: total, connections, events, expected_deliveries: total * events, delivered: delivered(),
  errors, latency_ms: { p50: q(0.5), p95: q(0.95), max: latencies.length ? Math.round(latencies[latencies.length - 1]) : null },
  all_delivered_within_ms: Math.round(performance.now() - started) }));
for (const c of clients) c.dispose();
process.exit(delivered() === total * events && errors === 0 ? 0 : 1);
