// Subscribes through the graphql-ws client (graphql-transport-ws) and prints each event as one JSON line.
// Usage: HUBBLE_WS_URL=ws://127.0.0.1:8080/graphql/ws HUBBLE_KEY=hw_... HUBBLE_QUERY='subscription {...}' \
//        HUBBLE_EXPECT=2 node subscribe.mjs
// Prints `READY` once the subscription is sent, then `EVENT <json>` per event; exits 0 after HUBBLE_EXPECT events,
// 1 on an error or after HUBBLE_TIMEOUT_MS (20000).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { HUBBLE_WS_URL: url, HUBBLE_KEY: key, HUBBLE_QUERY: query } = process.env;
const expect = Number(process.env.HUBBLE_EXPECT || 1);
const timeout = Number(process.env.HUBBLE_TIMEOUT_MS || 20000);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: key ? { Authorization: `Bearer ${key}` } : {},
  retryAttempts: 0,
  lazy: false,
  onNonLazyError: (e) => { console.log(`ERROR ${JSON.stringify(String(e?.reason ?? e?.message ?? e))} ${e?.code ?? ''}`); process.exit(1); },
});
let seen = 0;
const timer = setTimeout(() => { console.log(`TIMEOUT after ${seen} events`); process.exit(1); }, timeout);
client.on('connected', () => console.log('CONNECTED'));
client.subscribe({ query }, {
  next: (value) => {
    console.log(`EVENT ${JSON.stringify(value)}`);
    seen += 1;
    if (seen >= expect) { clearTimeout(timer); client.dispose(); process.exit(0); }
  },
  error: (e) => { console.log(`ERROR ${JSON.stringify(e)}`); process.exit(1); },
  complete: () => {},
});
// The server registers the subscription when it reads the subscribe message; give it a moment.
setTimeout(() => console.log('READY'), 500);
